// JSON shapes of the records; see views.hpp.
#include "api/views.hpp"

namespace sig::api {

namespace json = boost::json;

namespace {

json::value agent_id_value(const domain::allocation& a) {
  if (a.agent_id.empty()) return nullptr;
  return json::string(a.agent_id);
}

}  // namespace

json::object user_view(const domain::user& u) {
  return {{"id", u.user_id}, {"email", u.email}, {"created_at", format_timestamp(u.created_at)}};
}

json::object organization_view(const domain::organization& o) {
  return {{"id", o.organization_id},
          {"name", o.name},
          {"subnet", o.subnet.to_string()},
          {"owner_id", o.owner_id},
          {"join_policy", domain::to_string(o.policy)},
          {"created_at", format_timestamp(o.created_at)}};
}

json::object membership_view(const domain::membership& m) {
  return {{"organization_id", m.organization_id},
          {"user_id", m.user_id},
          {"email", m.email},
          {"role", domain::to_string(m.member_role)},
          {"joined_at", format_timestamp(m.joined_at)}};
}

json::object allocation_view(const domain::allocation& a) {
  return {{"organization_id", a.organization_id},
          {"user_id", a.user_id},
          {"agent_id", agent_id_value(a)},
          {"virtual_ip", domain::format_ipv4(a.address)},
          {"allocated_at", format_timestamp(a.allocated_at)}};
}

json::object address_listing_view(const domain::allocation& a, bool online) {
  return {{"user_id", a.user_id},
          {"email", a.email},
          {"agent_id", agent_id_value(a)},
          {"virtual_ip", domain::format_ipv4(a.address)},
          {"allocated_at", format_timestamp(a.allocated_at)},
          {"online", online}};
}

json::object invite_view(const domain::invite& i) {
  return {{"code", i.code}, {"max_uses", i.max_uses}, {"expires_at", format_timestamp(i.expires_at)}};
}

}  // namespace sig::api
