// Strict JSON parsing: Boost.JSON's basic_parser driving a value_stack, plus duplicate-key checks.
#include "core/json_parse.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace sig {
namespace {

namespace json = boost::json;

// Same callbacks as Boost.JSON's own parser handler; on top of them, the keys of each open object
// are collected and checked for duplicates when the object closes.
struct strict_handler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::vector<std::string> keys;           // keys of all open objects, innermost last
  std::vector<std::size_t> object_starts;  // index in `keys` where each open object begins
  std::string pending_key;
  bool duplicate = false;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    object_starts.push_back(keys.size());
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code& ec) {
    const auto first = keys.begin() + static_cast<std::ptrdiff_t>(object_starts.back());
    object_starts.pop_back();
    std::sort(first, keys.end());
    if (const auto dup = std::adjacent_find(first, keys.end()); dup != keys.end()) {
      duplicate = true;
      ec = json::make_error_code(json::error::syntax);
      return false;
    }
    keys.erase(first, keys.end());
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    pending_key.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    pending_key.append(s.data(), s.size());
    keys.push_back(std::move(pending_key));
    pending_key.clear();
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code& ec) {
    // 1e400 parses as infinity, which has no JSON form: it could not be sent on.
    if (!std::isfinite(d)) {
      ec = json::make_error_code(json::error::exponent_overflow);
      return false;
    }
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

std::string describe(const json::error_code& ec) {
  if (ec == json::error::too_deep) return "JSON nested too deeply";
  if (ec == json::error::syntax || ec == json::error::incomplete || ec == json::error::extra_data)
    return "Expecting value";
  if (ec == json::error::exponent_overflow) return "Number out of range";
  return ec.message();
}

}  // namespace

std::expected<json::value, json_parse_error> parse_json(std::string_view text) {
  json::parse_options options;
  options.max_depth = json_max_depth;
  json::basic_parser<strict_handler> parser(options, json::storage_ptr{});
  parser.handler().st.reset();
  json::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used != text.size()) ec = json::make_error_code(json::error::extra_data);
  if (ec) {
    if (parser.handler().duplicate) return std::unexpected(json_parse_error{"Duplicate key", used});
    return std::unexpected(json_parse_error{describe(ec), used});
  }
  return parser.handler().st.release();
}

}  // namespace sig
