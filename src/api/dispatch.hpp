// The two halves of serving a route: checking the bearer token (cheap, on the I/O thread) and
// running the handler (on the worker pool the route names), with the request boundary that turns
// infrastructure failures into 503/500 without details.
#pragma once

#include "api/router.hpp"
#include "auth/jwt.hpp"
#include "core/error.hpp"

#include <optional>
#include <string_view>

namespace sig::api {

/// "Bearer <jwt>" (scheme case-insensitive) → the token's claims. errc::not_authenticated when
/// there is no bearer token, errc::invalid_token when it does not verify.
result<auth::token_claims> authenticate_bearer(std::string_view authorization, const auth::jwt_codec& tokens);

/// The token of an "Authorization: Bearer" header, or empty.
std::string_view bearer_token(std::string_view authorization) noexcept;

/// Whether `authorization` is "Bearer <expected>". The tokens are compared in constant time (a
/// length check first: the length of a token is no secret), so that the answer's timing tells
/// nothing of how much of a guess was right.
bool bearer_matches(std::string_view authorization, std::string_view expected) noexcept;

/// Loads the caller for routes that need one (401 if the user is gone or the token revoked), then
/// runs the handler. Never throws.
api_response run_route(const route& r, api_request& request, const std::optional<auth::token_claims>& token,
                       api_services& services) noexcept;

}  // namespace sig::api
