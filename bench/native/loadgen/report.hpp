// Figures out: percentiles, and the two lines every scenario prints (a human one, then JSON).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "stream.hpp"

namespace loadgen {

// The p-th percentile (nearest rank on the sorted values, as bench/lib/common.py does); NaN if empty.
double percentile(std::vector<double> values, double p);

double ms_between(clock_type::time_point from, clock_type::time_point to);

// printf-style formatting into a string (g++ 12 has no std::format).
std::string fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Rounds for printing: 3 significant decimals are plenty for benchmark figures.
double round3(double v);

// Prints `human`, then `result` (with "scenario", "ok" and "failures" added) as one JSON line.
// Returns the exit status: 0 when there are no failures.
int finish(const std::string& scenario, const std::string& human, boost::json::object result,
           const std::vector<std::string>& failures);

}  // namespace loadgen
