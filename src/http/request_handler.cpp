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

// Runs the handler where its route says; nullopt when the pool is saturated.
asio::awaitable<api::api_response> run_on_pool(const api::route& route, api::api_request& request,
                                               std::optional<domain::id> user_id, session_context& context) {
  auto task = [&] { return api::run_route(route, request, user_id, context.services); };
  std::optional<api::api_response> answer;
  switch (route.where) {
    case api::runs_on::io_thread: co_return task();
    case api::runs_on::database: answer = co_await context.database_pool.run(task); break;
    case api::runs_on::hashing: answer = co_await context.hashing_pool.run(task); break;
  }
  if (!answer) co_return api::error_response(errc::overloaded);
  co_return std::move(*answer);
}

// `route_index` is set to the matched route's index in context.routes, when one matches.
asio::awaitable<api::api_response> dispatch(const request& req, session_context& context, std::size_t& route_index) {
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
  route_index = static_cast<std::size_t>(match.matched - context.routes.data());
  std::optional<domain::id> user_id;
  if (match.matched->who == api::access::user) {
    auto authenticated = api::authenticate_bearer(req[bhttp::field::authorization], context.services.tokens);
    if (!authenticated) co_return api::error_response(authenticated.error());
    user_id = *authenticated;
  }
  api::api_request request{path, req[bhttp::field::content_type], req.body(), match.params, std::nullopt};
  co_return co_await run_on_pool(*match.matched, request, user_id, context);
}

}  // namespace

response plain_error(bhttp::status status, std::string_view detail, unsigned version) {
  response res{status, version};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = boost::json::serialize(boost::json::object{{"detail", detail}});
  res.keep_alive(false);
  return res;
}

asio::awaitable<response> handle_request(const request& req, session_context& context) {
  if (is_preflight(req)) co_return preflight_response(context.options.cors_origins, req);
  const auto started = std::chrono::steady_clock::now();
  std::size_t route_index = telemetry::metrics::unmatched_route;
  response res = to_beast(co_await dispatch(req, context, route_index), req.version());
  context.metrics.http_request(route_index, res.result_int(), std::chrono::steady_clock::now() - started);
  add_cors_headers(context.options.cors_origins, req, res);
  if (req.method() == bhttp::verb::head) {
    res.content_length(res.body().size());
    res.body().clear();
  }
  co_return res;
}

}  // namespace sig::http
