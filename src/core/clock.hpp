// Wall-clock time as the store keeps it (microseconds since the Unix epoch, UTC) and its
// RFC 3339 text form used in every JSON answer.
#pragma once

#include <cstdint>
#include <string>

namespace sig {

using unix_micros = std::int64_t;

unix_micros now_micros() noexcept;

/// "2026-11-25T23:21:51.123456Z"
std::string format_timestamp(unix_micros t);

}  // namespace sig
