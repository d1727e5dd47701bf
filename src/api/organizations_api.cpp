// Organizations: create, list, show, join, invites (PROTOCOL.md §3).
#include "api/body.hpp"
#include "api/handlers.hpp"
#include "api/responses.hpp"
#include "api/views.hpp"
#include "service/organizations.hpp"
#include "signaling/peer.hpp"

namespace sig::api::handlers {

namespace json = boost::json;

api_response create_organization(const api_request& request, api_services& services) {
  auto body = body_fields::from_json(request);
  if (!body) return error_response(body.error());
  const auto name_text = body->required_string("name");
  const auto subnet_text = body->required_string("subnet");
  const auto policy_text = body->optional_string("join_policy");
  service::organization_draft draft;
  if (const auto name = name_text ? body->check("name", domain::validate_organization_name(*name_text)) : std::nullopt)
    draft.name = *name;
  if (const auto subnet = subnet_text ? body->check("subnet", domain::validate_subnet(*subnet_text)) : std::nullopt)
    draft.subnet = *subnet;
  if (policy_text) {
    if (const auto policy = body->check("join_policy", domain::validate_join_policy(*policy_text)))
      draft.policy = *policy;
  }
  if (auto valid = body->finish(); !valid) return error_response(valid.error());

  return json_response(organization_view(service::create_organization(services.db, request.user(), draft)));
}

api_response list_organizations(const api_request& request, api_services& services) {
  json::array list;
  for (const auto& o : services.db.organizations_of(request.user().user_id)) list.push_back(organization_view(o));
  return json_response(list);
}

api_response get_organization(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  const auto access = service::organization_of_member(services.db, request.user(), *org_id);
  if (!access) return error_response(access.error());
  return json_response(organization_view(access->organization));
}

api_response list_peers(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  const auto access = service::organization_of_member(services.db, request.user(), *org_id);
  if (!access) return error_response(access.error());
  std::string list = "[";
  for (const auto& peer : services.presence.online_peers(*org_id)) {
    if (list.size() > 1) list.push_back(',');
    list += signaling::peer_json(peer);
  }
  list.push_back(']');
  return api_response{200, std::move(list), "application/json", {}};
}

api_response join_organization(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  auto body = body_fields::from_json(request, /*body_optional=*/true);
  if (!body) return error_response(body.error());
  const auto invite_code = body->optional_string("invite_code");
  if (auto valid = body->finish(); !valid) return error_response(valid.error());

  const auto membership = service::join_organization(services.db, request.user(), *org_id, invite_code);
  if (!membership) return error_response(membership.error());
  return json_response(membership_view(*membership));
}

api_response create_invite(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  auto body = body_fields::from_json(request, /*body_optional=*/true);
  if (!body) return error_response(body.error());
  service::invite_terms terms;
  if (const auto max_uses = body->optional_integer("max_uses"))
    terms.max_uses = body->check("max_uses", domain::validate_invite_max_uses(*max_uses)).value_or(0);
  if (const auto expires_in = body->optional_integer("expires_in"))
    terms.expires_in = body->check("expires_in", domain::validate_invite_expires_in(*expires_in)).value_or(0);
  if (auto valid = body->finish(); !valid) return error_response(valid.error());

  const auto invite = service::create_invite(services.db, request.user(), *org_id, terms);
  if (!invite) return error_response(invite.error());
  return json_response(invite_view(*invite));
}

}  // namespace sig::api::handlers
