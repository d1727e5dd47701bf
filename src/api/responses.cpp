// Error-to-HTTP mapping and JSON responses; see responses.hpp.
#include "api/responses.hpp"

#include <boost/json/serialize.hpp>

namespace sig::api {

namespace json = boost::json;

unsigned http_status(errc code) noexcept {
  switch (code) {
    case errc::validation_failed: return 422;
    case errc::malformed_request: return 400;
    case errc::not_authenticated:
    case errc::invalid_token:
    case errc::bad_credentials: return 401;
    case errc::forbidden:
    case errc::not_a_member:
    case errc::invite_required:
    case errc::invite_invalid: return 403;
    case errc::not_found:
    case errc::organization_not_found:
    case errc::member_not_found:
    case errc::address_not_found: return 404;
    case errc::email_taken:
    case errc::already_member:
    case errc::owner_cannot_leave:
    case errc::owner_role_fixed:
    case errc::subnet_full:
    case errc::address_taken:
    case errc::device_has_address:
    case errc::address_quota_exceeded:
    case errc::peer_online: return 409;
    case errc::payload_too_large: return 413;
    case errc::unsupported_media_type: return 415;
    case errc::rate_limited: return 429;
    case errc::overloaded: return 503;
    case errc::internal: return 500;
  }
  return 500;
}

api_response json_response(const json::value& body, unsigned status) {
  return api_response{status, json::serialize(body), "application/json", {}};
}

api_response error_response(const error& e) {
  json::value detail;
  if (e.code == errc::validation_failed) {
    json::array fields;
    for (const field_error& f : e.fields) {
      json::array loc;
      for (const loc_part& part : f.loc) std::visit([&](const auto& v) { loc.emplace_back(v); }, part);
      fields.push_back(json::object{{"loc", std::move(loc)}, {"msg", f.msg}, {"type", f.type}});
    }
    detail = std::move(fields);
  } else {
    detail = json::string(e.message());
  }
  api_response response = json_response(json::object{{"detail", std::move(detail)}}, http_status(e.code));
  const unsigned status = response.status;
  if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (status == 429 || status == 503) response.headers.emplace_back("Retry-After", "1");
  return response;
}

}  // namespace sig::api
