// The REST calls the load generator's set-up and `rest` scenario use, on the in-memory model.
#include <charconv>
#include <ctime>

#include "../common/json_scan.hpp"
#include "http.hpp"

namespace ceiling {

namespace {

constexpr std::string_view token_prefix = "ceiling-";

std::string now_iso() {
  char buf[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

// "/organizations/<id>/<action>" -> organization index and action; false otherwise.
bool org_path(const model& m, std::string_view path, int& org, std::string_view& action) {
  constexpr std::string_view prefix = "/organizations/";
  if (path.substr(0, prefix.size()) != prefix) return false;
  path.remove_prefix(prefix.size());
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(path.data(), path.data() + path.size(), id);
  if (ec != std::errc() || p == path.data()) return false;
  action = std::string_view(p, static_cast<std::size_t>(path.data() + path.size() - p));
  org = id >= 1 && id <= static_cast<std::int64_t>(m.orgs.size()) ? static_cast<int>(id - 1) : -1;
  return true;
}

void unauthorized(server& s, conn& c) { respond(s, c, 401, R"({"detail":"Could not validate credentials"})"); }

void register_user(server& s, conn& c, const request& r) {
  const std::string email(jscan::str(jscan::field(r.body, "email")));
  const std::string password(jscan::str(jscan::field(r.body, "password")));
  if (email.empty() || password.size() < 8) {
    respond(s, c, 422, R"({"detail":[{"loc":["body"],"msg":"email and password required","type":"value_error"}]})");
    return;
  }
  model& m = s.m;
  if (m.user_by_email.contains(email)) {
    respond(s, c, 409, R"({"detail":"Email already registered"})");
    return;
  }
  m.users.push_back(user{email, password, {}});
  const auto id = static_cast<std::int64_t>(m.users.size());
  m.user_by_email.emplace(email, id);
  respond(s, c, 200,
          R"({"id":)" + std::to_string(id) + R"(,"email":")" + email + R"(","created_at":")" + now_iso() + "\"}");
}

void login(server& s, conn& c, const request& r) {
  const std::string email(jscan::str(jscan::field(r.body, "email")));
  auto it = s.m.user_by_email.find(email);
  if (it == s.m.user_by_email.end() ||
      s.m.users[it->second - 1].password != jscan::str(jscan::field(r.body, "password"))) {
    respond(s, c, 401, R"({"detail":"Incorrect email or password"})");
    return;
  }
  respond(s, c, 200,
          R"({"access_token":")" + std::string(token_prefix) + std::to_string(it->second) +
              R"(","token_type":"bearer","expires_in":1800})");
}

void create_org(server& s, conn& c, std::int64_t uid, const request& r) {
  const std::string_view name = jscan::str(jscan::field(r.body, "name"));
  const std::string_view subnet = jscan::str(jscan::field(r.body, "subnet"));
  const std::size_t slash = subnet.find('/');
  std::uint32_t network = 0;
  int prefix = 0;
  if (name.empty() || slash == std::string_view::npos || !parse_ipv4(subnet.substr(0, slash), network) ||
      std::from_chars(subnet.data() + slash + 1, subnet.data() + subnet.size(), prefix).ec != std::errc() ||
      prefix < 8 || prefix > 30 || (network & ((1u << (32 - prefix)) - 1)) != 0) {
    respond(s, c, 422, R"({"detail":[{"loc":["body","subnet"],"msg":"invalid subnet","type":"value_error"}]})");
    return;
  }
  model& m = s.m;
  organization o;
  o.id = static_cast<std::int64_t>(m.orgs.size()) + 1;
  o.network = network;
  o.hosts = (1u << (32 - prefix)) - 2;
  o.json = R"({"id":)" + std::to_string(o.id) + R"(,"name":")" + std::string(name) + R"(","subnet":")" +
           std::string(subnet) + R"(","owner_id":)" + std::to_string(uid) + R"(,"join_policy":"open","created_at":")" +
           now_iso() + "\"}";
  m.orgs.push_back(std::move(o));
  const int index = static_cast<int>(m.orgs.size()) - 1;
  m.members.emplace(model::key(index, uid), 'o');
  m.users[uid - 1].orgs.push_back(index);
  respond(s, c, 200, m.orgs.back().json);
}

void list_orgs(server& s, conn& c, std::int64_t uid) {
  static std::string body;
  body.assign("[");
  for (int index : s.m.users[uid - 1].orgs) {
    if (body.size() > 1) body.push_back(',');
    body.append(s.m.orgs[index].json);
  }
  body.push_back(']');
  respond(s, c, 200, body);
}

void join(server& s, conn& c, std::int64_t uid, int org) {
  model& m = s.m;
  if (!m.members.emplace(model::key(org, uid), 'm').second) {
    respond(s, c, 409, R"({"detail":"Already a member"})");
    return;
  }
  m.users[uid - 1].orgs.push_back(org);
  respond(s, c, 200,
          R"({"organization_id":)" + std::to_string(m.orgs[org].id) + R"(,"user_id":)" + std::to_string(uid) +
              R"(,"role":"member","joined_at":")" + now_iso() + "\"}");
}

void allocate(server& s, conn& c, std::int64_t uid, int org) {
  model& m = s.m;
  if (!m.members.contains(model::key(org, uid))) {
    respond(s, c, 403, R"({"detail":"Not a member of this organization"})");
    return;
  }
  organization& o = m.orgs[org];
  auto [it, fresh] = m.allocations.emplace(model::key(org, uid), 0);
  if (fresh) {
    if (o.next_host > o.hosts) {
      m.allocations.erase(it);
      respond(s, c, 409, R"({"detail":"No free IP address in subnet"})");
      return;
    }
    it->second = o.network + o.next_host++;
  }
  respond(s, c, 200,
          R"({"organization_id":)" + std::to_string(o.id) + R"(,"user_id":)" + std::to_string(uid) +
              R"(,"agent_id":null,"virtual_ip":")" + ipv4_text(it->second) + R"(","allocated_at":")" + now_iso() +
              "\"}");
}

}  // namespace

std::int64_t authenticate(const model& m, std::string_view token) {
  if (token.substr(0, token_prefix.size()) != token_prefix) return 0;
  token.remove_prefix(token_prefix.size());
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), id);
  if (ec != std::errc() || p != token.data() + token.size()) return 0;
  return id >= 1 && id <= static_cast<std::int64_t>(m.users.size()) ? id : 0;
}

void rest_route(server& s, conn& c, const request& r) {
  if (r.path == "/register" && r.method == "POST") return register_user(s, c, r);
  if (r.path == "/login" && r.method == "POST") return login(s, c, r);
  if (r.path == "/healthz" || r.path == "/openapi.json") return respond(s, c, 200, "{}");
  constexpr std::string_view bearer = "Bearer ";
  const std::int64_t uid =
      r.authorization.substr(0, bearer.size()) == bearer ? authenticate(s.m, r.authorization.substr(bearer.size())) : 0;
  if (r.path == "/organizations") {
    if (!uid) return unauthorized(s, c);
    if (r.method == "GET") return list_orgs(s, c, uid);
    if (r.method == "POST") return create_org(s, c, uid, r);
  }
  int org = -1;
  std::string_view action;
  if (r.method == "POST" && org_path(s.m, r.path, org, action) && (action == "/join" || action == "/allocate_ip")) {
    if (!uid) return unauthorized(s, c);
    if (org < 0) return respond(s, c, 404, R"({"detail":"Organization not found"})");
    return action == "/join" ? join(s, c, uid, org) : allocate(s, c, uid, org);
  }
  respond(s, c, 404, R"({"detail":"Not Found"})");
}

}  // namespace ceiling
