// Authentication and the request boundary; see dispatch.hpp.
#include "api/dispatch.hpp"

#include "api/responses.hpp"
#include "core/clock.hpp"
#include "service/accounts.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <cctype>

namespace sig::api {

std::string_view bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() || authorization[scheme.size()] != ' ') return {};
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return {};
  std::string_view token = authorization.substr(scheme.size() + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

bool bearer_matches(std::string_view authorization, std::string_view expected) noexcept {
  const std::string_view token = bearer_token(authorization);
  return !expected.empty() && token.size() == expected.size() &&
         sodium_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

result<auth::token_claims> authenticate_bearer(std::string_view authorization, const auth::jwt_codec& tokens) {
  const std::string_view token = bearer_token(authorization);
  if (token.empty()) return fail(errc::not_authenticated);
  const auto claims = tokens.verify(token, now_micros() / 1'000'000);
  if (!claims) {
    spdlog::debug("token refused: {}", auth::to_string(claims.error()));
    return fail(errc::invalid_token);
  }
  return std::move(*claims);
}

api_response run_route(const route& r, api_request& request, const std::optional<auth::token_claims>& token,
                       api_services& services) noexcept {
  try {
    if (r.who == access::user) {
      auto caller = service::caller_from_token(services.db, token.value_or(auth::token_claims{}));
      if (!caller) return error_response(caller.error());
      request.caller = std::move(*caller);
    }
    return r.handle(request, services);
  } catch (const store::store_unavailable& e) {
    spdlog::error("{} {}: database unavailable: {}", to_string(r.method), request.path, e.what());
    return error_response(errc::overloaded, "Database unavailable, retry later");
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", to_string(r.method), request.path, e.what());
  } catch (...) {
    spdlog::error("{} {}: unknown exception", to_string(r.method), request.path);
  }
  try {
    return error_response(errc::internal);
  } catch (...) {
    return api_response{500, R"({"detail":"Internal server error"})", "application/json", {}};
  }
}

}  // namespace sig::api
