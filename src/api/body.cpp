// Request body readers; see body.hpp.
#include "api/body.hpp"

#include "core/json_parse.hpp"
#include "core/utf8.hpp"

#include <boost/url/params_view.hpp>

#include <charconv>

namespace sig::api {
namespace {

namespace json = boost::json;

bool is_json_content_type(std::string_view content_type) {
  const std::string media = media_type_of(content_type);
  return media.empty() || media == "application/json" || media.ends_with("+json");
}

std::unexpected<error> body_error(loc_part where, std::string msg, std::string type) {
  return fail_validation({{{"body", std::move(where)}, std::move(msg), std::move(type)}});
}

}  // namespace

std::string media_type_of(std::string_view content_type) {
  std::string media;
  for (const char c : content_type.substr(0, content_type.find(';')))
    if (c != ' ' && c != '\t') media.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return media;
}

result<body_fields> body_fields::from_json(const api_request& request, bool body_optional) {
  if (!is_json_content_type(request.content_type)) return fail(errc::unsupported_media_type);
  if (request.body.empty()) {
    if (body_optional) return body_fields(json::object{});
    return fail_validation({{{"body"}, "field required", "value_error.missing"}});
  }
  auto parsed = parse_json(request.body);
  if (!parsed)
    return body_error(static_cast<std::int64_t>(parsed.error().offset), parsed.error().reason,
                      "value_error.jsondecode");
  if (!parsed->is_object()) return fail_validation({{{"body"}, "value is not a valid dict", "type_error.dict"}});
  return body_fields(std::move(parsed->as_object()));
}

result<body_fields> body_fields::from_form(std::string_view body) {
  json::object fields;
  try {
    boost::urls::encoding_opts options;
    options.space_as_plus = true;
    for (const auto& param : boost::urls::params_view(body, options)) {
      if (!is_valid_utf8(param.key))  // the key itself cannot go back in a JSON answer
        return fail_validation({{{"body"}, "invalid UTF-8", "value_error.unicode"}});
      if (!is_valid_utf8(param.value)) return body_error(param.key, "invalid UTF-8", "value_error.unicode");
      if (fields.contains(param.key)) return body_error(param.key, "Duplicate key", "value_error.duplicate");
      fields[param.key] = param.value;
    }
  } catch (const boost::system::system_error&) {
    return fail_validation({{{"body"}, "malformed form data", "value_error.form"}});
  }
  return body_fields(std::move(fields));
}

const json::value* body_fields::present(std::string_view name) const {
  const json::value* v = fields_.if_contains(name);
  return v && !v->is_null() ? v : nullptr;
}

void body_fields::reject(std::string_view name, std::string msg, std::string type) {
  errors_.push_back({{"body", std::string(name)}, std::move(msg), std::move(type)});
}

std::optional<std::string> body_fields::required_string(std::string_view name) {
  if (!present(name)) {
    reject(name, "field required", "value_error.missing");
    return std::nullopt;
  }
  return optional_string(name);
}

std::optional<std::string> body_fields::optional_string(std::string_view name) {
  const json::value* v = present(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    reject(name, "str type expected", "type_error.str");
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<std::int64_t> body_fields::optional_integer(std::string_view name) {
  const json::value* v = present(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    reject(name, "ensure this value is less than or equal to " + std::to_string(INT64_MAX),
           "value_error.number.not_le");
    return std::nullopt;
  }
  reject(name, "value is not a valid integer", "type_error.integer");
  return std::nullopt;
}

result<void> body_fields::finish() const {
  if (errors_.empty()) return {};
  return fail_validation(errors_);
}

result<std::int64_t> id_param(const api_request& request, std::string_view name) {
  const std::string_view text = request.param(name);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    return fail_validation({{{"path", std::string(name)}, "value is not a valid integer", "type_error.integer"}});
  if (value <= 0)
    return fail_validation(
        {{{"path", std::string(name)}, "ensure this value is greater than 0", "value_error.number.not_gt"}});
  return value;
}

}  // namespace sig::api
