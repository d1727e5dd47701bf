// Minimal JSON value scanner shared by the load generator and the ceiling server.
//
// Both programs look at a handful of fields in messages whose shape they know, at rates where
// building a DOM per message would cost more than the server under test. The scanner finds the
// raw text of a top-level field by skipping over the other values; it validates nothing beyond
// balanced brackets and string quoting, and never unescapes (the fields it is used for are
// addresses, ids and numbers without escapes).
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace jscan {

constexpr std::size_t npos = std::string_view::npos;

inline std::size_t skip_ws(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Position just past the string starting at s[i] == '"', or npos.
inline std::size_t skip_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return npos;
}

// Position just past the value starting at s[i] (no leading whitespace), or npos.
inline std::size_t skip_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return npos;
  char c = s[i];
  if (c == '"') return skip_string(s, i);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (i < s.size()) {
      c = s[i];
      if (c == '"') {
        i = skip_string(s, i);
        if (i == npos) return npos;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return npos;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' &&
         s[i] != '\t')
    ++i;
  return i;
}

// Calls f(key, raw_value) for each member of the object `obj` until f returns false.
template <class F>
inline bool each_member(std::string_view obj, F&& f) {
  std::size_t i = skip_ws(obj, 0);
  if (i >= obj.size() || obj[i] != '{') return false;
  i = skip_ws(obj, i + 1);
  if (i < obj.size() && obj[i] == '}') return true;
  while (i < obj.size()) {
    if (obj[i] != '"') return false;
    std::size_t key_end = skip_string(obj, i);
    if (key_end == npos) return false;
    std::string_view key = obj.substr(i + 1, key_end - i - 2);
    i = skip_ws(obj, key_end);
    if (i >= obj.size() || obj[i] != ':') return false;
    i = skip_ws(obj, i + 1);
    std::size_t value_end = skip_value(obj, i);
    if (value_end == npos) return false;
    if (!f(key, obj.substr(i, value_end - i))) return true;
    i = skip_ws(obj, value_end);
    if (i < obj.size() && obj[i] == ',') {
      i = skip_ws(obj, i + 1);
      continue;
    }
    return i < obj.size() && obj[i] == '}';
  }
  return false;
}

// Raw text of the top-level member `key` of `obj` (quotes included for strings); empty if absent.
inline std::string_view field(std::string_view obj, std::string_view key) {
  std::string_view found;
  each_member(obj, [&](std::string_view k, std::string_view v) {
    if (k != key) return true;
    found = v;
    return false;
  });
  return found;
}

inline bool is_string(std::string_view raw) { return raw.size() >= 2 && raw.front() == '"'; }

// The characters of a string value without its quotes (escapes left as they are).
inline std::string_view str(std::string_view raw) { return is_string(raw) ? raw.substr(1, raw.size() - 2) : raw; }

inline std::optional<std::int64_t> integer(std::string_view raw) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (ec != std::errc() || p != raw.data() + raw.size()) return std::nullopt;
  return v;
}

// Calls f(raw_element) for each element of the array `arr`; returns the count, or npos if malformed.
template <class F>
inline std::size_t each_element(std::string_view arr, F&& f) {
  std::size_t i = skip_ws(arr, 0), n = 0;
  if (i >= arr.size() || arr[i] != '[') return npos;
  i = skip_ws(arr, i + 1);
  if (i < arr.size() && arr[i] == ']') return 0;
  while (i < arr.size()) {
    std::size_t end = skip_value(arr, i);
    if (end == npos) return npos;
    f(arr.substr(i, end - i));
    ++n;
    i = skip_ws(arr, end);
    if (i < arr.size() && arr[i] == ',') {
      i = skip_ws(arr, i + 1);
      continue;
    }
    return i < arr.size() && arr[i] == ']' ? n : npos;
  }
  return npos;
}

inline std::size_t count(std::string_view arr) {
  return each_element(arr, [](std::string_view) {});
}

}  // namespace jscan
