// Records and arguments of the administration commands; see records.hpp.
#include "admin/records.hpp"

#include "admin/output.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ostream>

namespace sig::admin {
namespace json = boost::json;

json::object user_record(const domain::user& user) {
  return {{"id", user.user_id}, {"email", user.email}, {"created_at", iso_time(user.created_at)}};
}

json::object organization_record(const domain::organization& o) {
  return {{"id", o.organization_id},
          {"name", o.name},
          {"subnet", o.subnet.to_string()},
          {"owner_id", o.owner_id},
          {"join_policy", domain::to_string(o.policy)},
          {"created_at", iso_time(o.created_at)}};
}

json::object member_record(const domain::membership& m) {
  return {{"user_id", m.user_id},
          {"email", m.email},
          {"role", domain::to_string(m.member_role)},
          {"joined_at", iso_time(m.joined_at)}};
}

json::object allocation_record(const domain::allocation& a) {
  json::object record{{"virtual_ip", domain::format_ipv4(a.address)}, {"user_id", a.user_id}, {"email", a.email}};
  record["agent_id"] = a.agent_id.empty() ? json::value(nullptr) : json::value(a.agent_id);
  record["allocated_at"] = iso_time(a.allocated_at);
  return record;
}

json::object peer_record(const domain::peer_info& p) {
  json::object record{{"organization_id", p.organization_id},
                      {"virtual_ip", domain::format_ipv4(p.virtual_ip)},
                      {"peer_id", p.peer_id},
                      {"user_id", p.user_id},
                      {"email", p.email},
                      {"public_ip", p.reachable.public_ip},
                      {"public_port", p.reachable.public_port}};
  record["relay"] = p.reachable.relay_ip
                        ? json::value(*p.reachable.relay_ip + ":" + std::to_string(p.reachable.relay_port.value_or(0)))
                        : json::value(nullptr);
  record["process"] = p.process;
  return record;
}

std::optional<domain::user> find_user(store::store& db, const std::string& id_or_email, std::ostream& err) {
  domain::id user_id = 0;
  const char* end = id_or_email.data() + id_or_email.size();
  const auto [last, ec] = std::from_chars(id_or_email.data(), end, user_id);
  std::string email = id_or_email;  // stored in lower case, as login compares it
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto user = ec == std::errc{} && last == end ? db.find_user(user_id) : db.find_user_by_email(email);
  if (!user) err << "no user " << id_or_email << "\n";
  return user;
}

std::optional<domain::organization> find_organization(store::store& db, domain::id organization_id, std::ostream& err) {
  auto found = db.find_organization(organization_id, 0);
  if (!found) {
    err << "no organization " << organization_id << "\n";
    return std::nullopt;
  }
  return found->organization;
}

int refused(std::ostream& err, const error& why) {
  err << why.message() << "\n";
  return 1;
}

}  // namespace sig::admin
