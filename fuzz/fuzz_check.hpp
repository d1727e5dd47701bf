// A property check for the fuzz targets: a violated property is a finding, reported with its
// expression and the offending values, and turned into a crash that libFuzzer records with its
// input (assert() is compiled out of RelWithDebInfo builds, so it cannot serve).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sig_fuzz {

[[noreturn]] inline void property_failed(const char* expression, const char* file, int line, std::string_view detail) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n  %.*s\n", file, line, expression,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace sig_fuzz

/// FUZZ_CHECK(condition, detail): `detail` (anything convertible to std::string_view) says what
/// was seen; it is only evaluated when the check fails.
#define FUZZ_CHECK(condition, detail) \
  ((condition) ? void(0) : ::sig_fuzz::property_failed(#condition, __FILE__, __LINE__, (detail)))
