// The route table: one line per endpoint. Keep docs/openapi.json in step with it.
#include "api/routes.hpp"

#include "api/handlers.hpp"

#include <algorithm>
#include <array>

namespace sig::api {
namespace {

using enum http_method;
using enum access;
using enum runs_on;
namespace h = handlers;

constexpr std::array table{
    // Authentication. Register and login hash passwords: they run on the bounded hashing pool.
    route{post, "/register", anyone, hashing, &h::register_user, "Create an account"},
    route{post, "/login", anyone, hashing, &h::login, "Exchange email and password for a JWT"},
    route{get, "/me", user, database, &h::me, "The authenticated user"},
    route{post, "/logout", user, database, &h::logout, "Revoke every token of the caller"},
    // Organizations
    route{post, "/organizations", user, database, &h::create_organization, "Create an organization"},
    route{get, "/organizations", user, database, &h::list_organizations, "The caller's organizations"},
    route{get, "/organizations/{org_id}", user, database, &h::get_organization, "One organization"},
    route{get, "/organizations/{org_id}/peers", user, database, &h::list_peers, "Online peers (live presence)"},
    route{post, "/organizations/{org_id}/join", user, database, &h::join_organization, "Join (invite code if needed)"},
    route{post, "/organizations/{org_id}/invites", user, database, &h::create_invite, "Create an invite code"},
    route{get, "/organizations/{org_id}/members", user, database, &h::list_members, "List members"},
    route{delete_, "/organizations/{org_id}/members/{user_id}", user, database, &h::remove_member,
          "Remove a member, or leave"},
    route{patch, "/organizations/{org_id}/members/{user_id}", user, database, &h::change_role, "Change a role"},
    // Virtual IPs
    route{post, "/organizations/{org_id}/allocate_ip", user, database, &h::allocate_ip, "Allocate a virtual IP"},
    route{get, "/organizations/{org_id}/ips", user, database, &h::list_ips, "List virtual IPs"},
    route{delete_, "/organizations/{org_id}/ips/{virtual_ip}", user, database, &h::release_ip, "Release a virtual IP"},
    // Operations
    route{get, "/healthz", anyone, io_thread, &h::healthz, "Liveness"},
    route{get, "/readyz", anyone, database, &h::readyz, "Readiness (database reachable)"},
    route{get, "/metrics", anyone, io_thread, &h::metrics, "Prometheus metrics"},
    route{get, "/openapi.json", anyone, io_thread, &h::openapi_document, "OpenAPI 3.1 document"},
    // Documentation pages, served offline from the binary
    route{get, "/docs", anyone, io_thread, &h::swagger_ui, "Swagger UI"},
    route{get, "/docs/swagger-ui-bundle.js", anyone, io_thread, &h::swagger_ui_bundle, "Swagger UI script"},
    route{get, "/docs/swagger-ui.css", anyone, io_thread, &h::swagger_ui_css, "Swagger UI style sheet"},
    route{get, "/redoc", anyone, io_thread, &h::redoc, "ReDoc"},
    route{get, "/redoc/redoc.standalone.js", anyone, io_thread, &h::redoc_bundle, "ReDoc script"},
};

// Loading the caller is a database call: it must never run on an I/O thread.
static_assert(std::ranges::all_of(table, [](const route& r) { return r.where != io_thread || r.who == anyone; }),
              "a route that needs a user must run on a worker pool");

}  // namespace

std::span<const route> rest_routes() noexcept { return table; }

}  // namespace sig::api
