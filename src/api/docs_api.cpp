// The interactive API documentation (PROTOCOL.md §6): Swagger UI at /docs and ReDoc at /redoc,
// both reading /openapi.json and served entirely by the binary (no CDN), so they work offline.
#include "api/handlers.hpp"
#include "core/embedded.hpp"

SIG_DECLARE_EMBEDDED(swagger_ui_bundle_js);
SIG_DECLARE_EMBEDDED(swagger_ui_css);
SIG_DECLARE_EMBEDDED(redoc_standalone_js);

namespace sig::api::handlers {
namespace {

constexpr std::string_view swagger_page = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>signaling-server - Swagger UI</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout", persistAuthorization: true});
</script>
</body>
</html>
)";

constexpr std::string_view redoc_page = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>signaling-server - ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
)";

api_response static_file(std::string_view body, std::string_view content_type) {
  return api_response{200, std::string(body), content_type, {{"Cache-Control", "public, max-age=86400"}}};
}

}  // namespace

api_response swagger_ui(const api_request&, api_services&) {
  return api_response{200, std::string(swagger_page), "text/html; charset=utf-8", {}};
}

api_response redoc(const api_request&, api_services&) {
  return api_response{200, std::string(redoc_page), "text/html; charset=utf-8", {}};
}

api_response swagger_ui_bundle(const api_request&, api_services&) {
  return static_file(SIG_EMBEDDED(swagger_ui_bundle_js), "application/javascript; charset=utf-8");
}

api_response swagger_ui_css(const api_request&, api_services&) {
  return static_file(SIG_EMBEDDED(swagger_ui_css), "text/css; charset=utf-8");
}

api_response redoc_bundle(const api_request&, api_services&) {
  return static_file(SIG_EMBEDDED(redoc_standalone_js), "application/javascript; charset=utf-8");
}

}  // namespace sig::api::handlers
