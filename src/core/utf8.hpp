// Unicode facts about already-valid UTF-8 text (the JSON parser rejects invalid UTF-8):
// length in code points, as the contract counts characters, and control-character checks.
#pragma once

#include <cstddef>
#include <string_view>

namespace sig {

/// Number of code points; assumes valid UTF-8.
std::size_t code_points(std::string_view text) noexcept;

/// True if the text holds a C0/C1 control character, DEL, or a bidirectional override or isolate
/// (U+202A-U+202E, U+2066-U+2069), which could make names display as something else.
bool has_control_characters(std::string_view text) noexcept;

/// True for complete, well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace sig
