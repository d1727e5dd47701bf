#include "report.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>

namespace loadgen {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  auto k = static_cast<std::size_t>(std::lround(p / 100 * static_cast<double>(values.size() - 1)));
  return values[std::min(k, values.size() - 1)];
}

double ms_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string fmt(const char* format, ...) {
  va_list args;
  va_start(args, format);
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

double round3(double v) { return std::isfinite(v) ? std::round(v * 1000) / 1000 : -1; }

int finish(const std::string& scenario, const std::string& human, boost::json::object result,
           const std::vector<std::string>& failures) {
  result["scenario"] = scenario;
  result["ok"] = failures.empty();
  boost::json::array f;
  for (const auto& s : failures) f.emplace_back(s);
  result["failures"] = std::move(f);
  std::printf("%s%s\n", human.c_str(), failures.empty() ? "" : "  [FAILED]");
  for (const auto& s : failures) std::fprintf(stderr, "%s: %s\n", scenario.c_str(), s.c_str());
  std::printf("%s\n", boost::json::serialize(result).c_str());
  std::fflush(stdout);
  return failures.empty() ? 0 : 1;
}

}  // namespace loadgen
