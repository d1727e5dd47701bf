// Operations: liveness, readiness, metrics and the OpenAPI document (PROTOCOL.md §6).
#include "api/dispatch.hpp"
#include "api/handlers.hpp"
#include "api/responses.hpp"
#include "core/embedded.hpp"

SIG_DECLARE_EMBEDDED(openapi_json);

namespace sig::api::handlers {

api_response healthz(const api_request&, api_services&) { return json_response(boost::json::object{{"status", "ok"}}); }

api_response readyz(const api_request&, api_services& services) {
  if (!services.db.is_reachable()) return error_response(errc::overloaded, "Database unreachable");
  if (!services.presence.is_live()) return error_response(errc::overloaded, "Cluster presence unavailable");
  return json_response(boost::json::object{{"status", "ready"}});
}

// METRICS_TOKEN: the figures (who is online, how much traffic) are for the operator's scraper only.
api_response metrics(const api_request& request, api_services& services) {
  if (!services.metrics_token.empty() && !bearer_matches(request.authorization, services.metrics_token))
    return error_response(errc::not_authenticated);
  return api_response{
      200, services.metrics.render(services.presence.online_count()), "text/plain; version=0.0.4; charset=utf-8", {}};
}

api_response openapi_document(const api_request&, api_services&) {
  return api_response{200, std::string(SIG_EMBEDDED(openapi_json)), "application/json", {}};
}

}  // namespace sig::api::handlers
