// The API handlers, one per route of api/routes.cpp, grouped by resource. Each parses and
// validates its input, calls one use case of service/, and renders the result. They block (the
// store, Argon2id): the route table says which worker pool runs each.
#pragma once

#include "api/request.hpp"
#include "api/services.hpp"

namespace sig::api::handlers {

// auth_api.cpp
api_response register_user(const api_request& request, api_services& services);
api_response login(const api_request& request, api_services& services);
api_response me(const api_request& request, api_services& services);
api_response logout(const api_request& request, api_services& services);

// organizations_api.cpp
api_response create_organization(const api_request& request, api_services& services);
api_response list_organizations(const api_request& request, api_services& services);
api_response get_organization(const api_request& request, api_services& services);
api_response list_peers(const api_request& request, api_services& services);
api_response join_organization(const api_request& request, api_services& services);
api_response create_invite(const api_request& request, api_services& services);

// members_api.cpp
api_response list_members(const api_request& request, api_services& services);
api_response remove_member(const api_request& request, api_services& services);
api_response change_role(const api_request& request, api_services& services);

// addresses_api.cpp
api_response allocate_ip(const api_request& request, api_services& services);
api_response list_ips(const api_request& request, api_services& services);
api_response release_ip(const api_request& request, api_services& services);

// ops_api.cpp
api_response healthz(const api_request& request, api_services& services);
api_response readyz(const api_request& request, api_services& services);
api_response openapi_document(const api_request& request, api_services& services);
api_response metrics(const api_request& request, api_services& services);

// docs_api.cpp
api_response swagger_ui(const api_request& request, api_services& services);
api_response swagger_ui_bundle(const api_request& request, api_services& services);
api_response swagger_ui_css(const api_request& request, api_services& services);
api_response redoc(const api_request& request, api_services& services);
api_response redoc_bundle(const api_request& request, api_services& services);

}  // namespace sig::api::handlers
