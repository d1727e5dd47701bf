// JSON answers and the one mapping from error kinds to HTTP status and {"detail"} bodies
// (PROTOCOL.md §1).
#pragma once

#include "api/request.hpp"
#include "core/error.hpp"

#include <boost/json/value.hpp>

namespace sig::api {

unsigned http_status(errc code) noexcept;

api_response json_response(const boost::json::value& body, unsigned status = 200);
/// {"detail": "..."} or, for validation errors, FastAPI's list of field errors; adds
/// WWW-Authenticate on 401 and Retry-After on 429 and 503.
api_response error_response(const error& e);
inline api_response error_response(errc code, std::string detail = {}) {
  return error_response(error{code, std::move(detail), {}});
}

}  // namespace sig::api
