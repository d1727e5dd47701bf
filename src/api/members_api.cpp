// Members: list, remove or leave, change role (PROTOCOL.md §3).
#include "api/body.hpp"
#include "api/handlers.hpp"
#include "api/responses.hpp"
#include "api/views.hpp"
#include "service/organizations.hpp"

namespace sig::api::handlers {

namespace json = boost::json;

api_response list_members(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  const auto members = service::list_members(services.db, request.user(), *org_id);
  if (!members) return error_response(members.error());
  json::array list;
  for (const auto& m : *members) list.push_back(membership_view(m));
  return json_response(list);
}

api_response remove_member(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  const auto user_id = id_param(request, "user_id");
  if (!user_id) return error_response(user_id.error());
  const auto removed = service::remove_member(services.db, request.user(), *org_id, *user_id);
  if (!removed) return error_response(removed.error());
  services.presence.disconnect(*org_id, removed->went_offline);
  json::array addresses;
  for (const auto& a : removed->released) addresses.emplace_back(domain::format_ipv4(a.address));
  return json_response(
      json::object{{"organization_id", *org_id}, {"user_id", *user_id}, {"released_ips", std::move(addresses)}});
}

api_response change_role(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  const auto user_id = id_param(request, "user_id");
  if (!user_id) return error_response(user_id.error());
  auto body = body_fields::from_json(request);
  if (!body) return error_response(body.error());
  const auto role_text = body->required_string("role");
  const auto role = role_text ? body->check("role", domain::validate_assignable_role(*role_text)) : std::nullopt;
  if (auto valid = body->finish(); !valid) return error_response(valid.error());

  const auto membership = service::change_role(services.db, request.user(), *org_id, *user_id, *role);
  if (!membership) return error_response(membership.error());
  return json_response(membership_view(*membership));
}

}  // namespace sig::api::handlers
