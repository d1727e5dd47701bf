// Reading request bodies field by field, collecting FastAPI-shaped errors: a JSON object (or,
// for the OAuth2 login form, url-encoded fields), then typed getters that record a field error
// instead of failing, and finish() that reports them all at once.
#pragma once

#include "api/request.hpp"
#include "core/error.hpp"
#include "domain/validation.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sig::api {

class body_fields {
 public:
  /// 415 unless the Content-Type is JSON (or absent); 422 for malformed JSON, duplicate keys or a
  /// non-object. An empty body is an empty object when `body_optional`.
  static result<body_fields> from_json(const api_request& request, bool body_optional = false);
  /// application/x-www-form-urlencoded; every value is a string.
  static result<body_fields> from_form(std::string_view body);

  /// Absent or null: "field required". Not a string: "str type expected".
  std::optional<std::string> required_string(std::string_view name);
  /// Absent or null: nullopt without error.
  std::optional<std::string> optional_string(std::string_view name);
  std::optional<std::int64_t> optional_integer(std::string_view name);

  /// Records the violation of a domain rule for `name`, or returns the checked value.
  template <class T>
  std::optional<T> check(std::string_view name, domain::checked<T> outcome) {
    if (outcome) return std::move(*outcome);
    reject(name, std::move(outcome.error().msg), std::move(outcome.error().type));
    return std::nullopt;
  }

  void reject(std::string_view name, std::string msg, std::string type);
  /// All recorded field errors as one 422, or success.
  result<void> finish() const;

 private:
  explicit body_fields(boost::json::object fields) : fields_(std::move(fields)) {}
  const boost::json::value* present(std::string_view name) const;

  boost::json::object fields_;
  std::vector<field_error> errors_;
};

/// The media type of a Content-Type header value, lower-cased, without parameters or spaces.
std::string media_type_of(std::string_view content_type);

/// A path parameter that must be a positive 64-bit integer (ids): 422 on path.<name> otherwise.
result<std::int64_t> id_param(const api_request& request, std::string_view name);

}  // namespace sig::api
