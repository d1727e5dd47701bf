// Strict JSON parsing for every untrusted input: RFC 8259 only, valid UTF-8, bounded nesting, and
// duplicate object keys refused (Boost.JSON alone would silently keep the last one).
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace sig {

struct json_parse_error {
  std::string reason;  // "Expecting value", "Duplicate key", ...
  std::size_t offset;  // byte position where parsing stopped
};

constexpr std::size_t json_max_depth = 32;

std::expected<boost::json::value, json_parse_error> parse_json(std::string_view text);

}  // namespace sig
