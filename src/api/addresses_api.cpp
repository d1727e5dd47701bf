// Virtual IPs: allocate, list, release (PROTOCOL.md §4).
#include "api/body.hpp"
#include "api/handlers.hpp"
#include "api/responses.hpp"
#include "api/views.hpp"
#include "service/addresses.hpp"

#include <algorithm>

namespace sig::api::handlers {

namespace json = boost::json;

api_response allocate_ip(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  auto body = body_fields::from_json(request, /*body_optional=*/true);
  if (!body) return error_response(body.error());
  service::allocation_wish wish;
  if (const auto agent_id = body->optional_string("agent_id"))
    wish.agent_id = body->check("agent_id", domain::validate_agent_id(*agent_id)).value_or("");
  wish.address = body->optional_string("virtual_ip");
  if (auto valid = body->finish(); !valid) return error_response(valid.error());

  const auto allocation =
      service::allocate_address(services.db, request.user(), *org_id, wish, services.policy.max_addresses_per_member);
  if (!allocation) return error_response(allocation.error());
  return json_response(allocation_view(*allocation));
}

api_response list_ips(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  const auto allocations = service::list_addresses(services.db, request.user(), *org_id);
  if (!allocations) return error_response(allocations.error());
  std::vector<domain::ipv4> online;
  for (const auto& peer : services.presence.online_peers(*org_id)) online.push_back(peer.virtual_ip);
  json::array list;
  for (const auto& a : *allocations)
    list.push_back(address_listing_view(a, std::binary_search(online.begin(), online.end(), a.address)));
  return json_response(list);
}

api_response release_ip(const api_request& request, api_services& services) {
  const auto org_id = id_param(request, "org_id");
  if (!org_id) return error_response(org_id.error());
  const auto address = domain::validate_ipv4(request.param("virtual_ip"));
  if (!address)
    return error_response(
        error{errc::validation_failed, {}, {{{"path", "virtual_ip"}, address.error().msg, address.error().type}}});
  const auto released = service::release_address(services.db, request.user(), *org_id, *address);
  if (!released) return error_response(released.error());
  services.presence.disconnect(*org_id, released->went_offline);
  return json_response(allocation_view(released->released.front()));
}

}  // namespace sig::api::handlers
