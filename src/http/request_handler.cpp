// Routing and dispatch of one request; see request_handler.hpp.
#include "http/request_handler.hpp"

#include "api/dispatch.hpp"
#include "api/responses.hpp"
#include "http/cors.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

namespace sig::http {
namespace {

response to_beast(api::api_response&& answer, unsigned version) {
  response res{static_cast<bhttp::status>(answer.status), version};
  res.set(bhttp::field::content_type, answer.content_type);
  for (auto& [name, value] : answer.headers) res.set(name, value);
  res.body() = std::move(answer.body);
  return res;
}

api::api_response too_many_attempts(std::chrono::seconds wait) {
  api::api_response answer = api::error_response(errc::rate_limited, "Too many attempts, retry later");
  std::erase_if(answer.headers, [](const auto& header) { return header.first == "Retry-After"; });
  answer.headers.emplace_back("Retry-After", std::to_string(wait.count()));
  return answer;
}

// Runs the handler where its route says; 503 when that pool is saturated.
asio::awaitable<api::api_response> run_handler(const api::route& route, api::api_request& request,
                                               const std::optional<auth::token_claims>& token,
                                               session_context& context) {
  auto task = [&] { return api::run_route(route, request, token, context.services); };
  std::optional<api::api_response> answer;
  switch (route.where) {
    case api::runs_on::io_thread: co_return task();
    case api::runs_on::database: answer = co_await context.database_pool.run(task); break;
    case api::runs_on::hashing: answer = co_await context.hashing_pool.run(task); break;
  }
  if (!answer) co_return api::error_response(errc::overloaded);
  co_return std::move(*answer);
}

// Routes that hash a password are throttled first, here on the I/O thread, so that a flood is
// turned away before it reaches the hashing pool that every user needs.
asio::awaitable<api::api_response> run_throttled(const api::route& route, api::api_request& request,
                                                 const std::optional<auth::token_claims>& token,
                                                 session_context& context, std::string_view client) {
  api::credential_throttle* const throttle = route.where == api::runs_on::hashing ? context.services.throttle : nullptr;
  if (!throttle) co_return co_await run_handler(route, request, token, context);
  const auto attempt = throttle->admit(client, request);
  if (!attempt) co_return too_many_attempts(attempt.error());
  api::api_response answer = co_await run_handler(route, request, token, context);
  throttle->finish(*attempt, answer.status);
  co_return answer;
}

// `outcome` is given the matched route's index in context.routes, and the token's user.
asio::awaitable<api::api_response> dispatch(const request& req, session_context& context, std::string_view client,
                                            request_outcome& outcome) {
  const auto target = boost::urls::parse_origin_form(req.target());
  if (!target) co_return api::error_response(errc::malformed_request, "Malformed request target");
  const std::string path = target->path();
  const api::http_method method = api::parse_method(req.method_string());
  const api::route_match match = api::match_route(context.routes, method, path);
  if (!match.matched) {
    if (match.allowed.empty()) co_return api::error_response(errc::not_found);
    api::api_response answer = api::error_response(errc::malformed_request, "Method Not Allowed");
    answer.status = 405;
    answer.headers.emplace_back("Allow", match.allowed);
    co_return answer;
  }
  outcome.route_index = static_cast<std::size_t>(match.matched - context.routes.data());
  std::optional<auth::token_claims> token;
  if (match.matched->who == api::access::user) {
    auto authenticated = api::authenticate_bearer(req[bhttp::field::authorization], context.services.tokens);
    if (!authenticated) co_return api::error_response(authenticated.error());
    token = std::move(*authenticated);
    outcome.user_id = token->user_id;
  }
  api::api_request request{path,         req[bhttp::field::content_type], req.body(), match.params,
                           std::nullopt, req[bhttp::field::authorization]};
  co_return co_await run_throttled(*match.matched, request, token, context, client);
}

}  // namespace

response plain_error(bhttp::status status, std::string_view detail, unsigned version) {
  response res{status, version};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = boost::json::serialize(boost::json::object{{"detail", detail}});
  res.keep_alive(false);
  return res;
}

asio::awaitable<response> handle_request(const request& req, session_context& context, std::string_view client,
                                         request_outcome& outcome) {
  if (is_preflight(req)) co_return preflight_response(context.options.cors_origins, req);
  const auto started = std::chrono::steady_clock::now();
  response res = to_beast(co_await dispatch(req, context, client, outcome), req.version());
  context.metrics.http_request(outcome.route_index, res.result_int(), std::chrono::steady_clock::now() - started);
  // The token verified, but its user is gone or it was revoked: nobody was authenticated.
  if (res.result() == bhttp::status::unauthorized) outcome.user_id = 0;
  add_cors_headers(context.options.cors_origins, req, res);
  if (req.method() == bhttp::verb::head) {
    res.content_length(res.body().size());
    res.body().clear();
  }
  co_return res;
}

}  // namespace sig::http
