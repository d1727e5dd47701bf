// Error values shared by every layer: the kinds of expected failure (errc), the field errors of a
// failed validation, and result<T>. One function per protocol maps them to the wire
// (api/error_response.cpp for HTTP, the signaling layer for WebSocket).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sig {

enum class errc {
  validation_failed,       // 422, with field errors
  malformed_request,       // 400
  not_authenticated,       // 401, no credentials
  invalid_token,           // 401, bad, expired or orphaned token
  bad_credentials,         // 401, login failed
  forbidden,               // 403
  not_a_member,            // 403
  invite_required,         // 403
  invite_invalid,          // 403
  not_found,               // 404
  organization_not_found,  // 404
  member_not_found,        // 404
  address_not_found,       // 404
  email_taken,             // 409
  already_member,          // 409
  owner_cannot_leave,      // 409
  owner_role_fixed,        // 409
  subnet_full,             // 409
  address_taken,           // 409
  device_has_address,      // 409
  address_quota_exceeded,  // 409
  peer_online,             // 409, administration only: the database shows the address online
  payload_too_large,       // 413
  unsupported_media_type,  // 415
  rate_limited,            // 429
  overloaded,              // 503
  internal,                // 500
};

/// The message that goes with an error kind when the caller has nothing more precise to say.
std::string_view default_detail(errc code) noexcept;

/// One element of a FastAPI-style error location: a field name or an array index.
using loc_part = std::variant<std::string, std::int64_t>;

/// One entry of a 422 answer: {"loc": [...], "msg": ..., "type": ...}.
struct field_error {
  std::vector<loc_part> loc;
  std::string msg;
  std::string type;

  friend bool operator==(const field_error&, const field_error&) = default;
};

struct error {
  errc code = errc::internal;
  std::string detail;               // empty: default_detail(code)
  std::vector<field_error> fields;  // only for validation_failed

  std::string_view message() const noexcept { return detail.empty() ? default_detail(code) : detail; }
};

template <class T>
using result = std::expected<T, error>;

/// True for result<T>: code generic over what a function returns (a transaction that commits
/// only when its body succeeded) asks whether it failed.
template <class T>
inline constexpr bool is_result_v = false;
template <class T>
inline constexpr bool is_result_v<result<T>> = true;

inline std::unexpected<error> fail(errc code, std::string detail = {}) {
  return std::unexpected(error{code, std::move(detail), {}});
}

inline std::unexpected<error> fail_validation(std::vector<field_error> fields) {
  return std::unexpected(error{errc::validation_failed, {}, std::move(fields)});
}

}  // namespace sig
