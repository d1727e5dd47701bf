// Wall-clock helpers; see clock.hpp.
#include "core/clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace sig {

unix_micros now_micros() noexcept {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_timestamp(unix_micros t) {
  std::int64_t seconds = t / 1'000'000;
  std::int64_t micros = t % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    --seconds;
  }
  const auto as_time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&as_time, &parts);
  char text[40];
  const int n =
      std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", parts.tm_year + 1900, parts.tm_mon + 1,
                    parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, static_cast<long long>(micros));
  return std::string(text, n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace sig
