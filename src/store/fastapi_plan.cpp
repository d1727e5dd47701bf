// The import's rules; see fastapi_plan.hpp and README ("Migrating from the FastAPI server").
#include "store/fastapi_plan.hpp"

#include "domain/model.hpp"
#include "domain/validation.hpp"

#include <algorithm>

namespace sig::store::fastapi {
namespace {

using id = std::int64_t;

std::string in_quotes(std::string_view text) { return "'" + std::string(text.substr(0, 80)) + "'"; }

// Ids: kept when the target has them free, otherwise numbered after every id of both sides.
class id_allocator {
 public:
  id_allocator(const std::set<id>& taken, id source_max) : taken_(taken) {
    next_ = std::max(taken.empty() ? id{0} : *taken.rbegin(), source_max) + 1;
  }
  bool is_free(id wanted) const { return !taken_.contains(wanted); }
  id fresh() { return next_++; }

 private:
  const std::set<id>& taken_;
  id next_;
};

template <class Rows>
id max_id(const Rows& rows) {
  id found = 0;
  for (const auto& row : rows) found = std::max(found, row.id);
  return found;
}

struct checker {
  const source_database& source;
  const target_state& target;
  import_plan plan;
  std::map<id, id> user_ids;  // source -> target, for every valid source user
  struct organization_target {
    id target_id = 0;
    domain::cidr subnet{0, 0};
    bool existing = false;  // imported before: its rows are matched one by one
  };
  std::map<id, organization_target> organizations;  // for every valid source organization
  std::set<std::pair<id, id>> source_members;       // (source organization, source user)

  void problem(std::string text) { plan.problems.push_back(std::move(text)); }

  void users() {
    id_allocator ids(target.user_ids, max_id(source.users));
    std::map<std::string, id> seen_emails;
    std::vector<std::pair<const source_user*, std::string>> to_number;
    for (const auto& user : source.users) {
      const std::string what = "user " + std::to_string(user.id);
      const auto email = domain::validate_email(user.email);
      if (!email) {
        problem(what + ": email " + in_quotes(user.email) + " refused: " + email.error().msg);
        continue;
      }
      if (const auto [it, fresh] = seen_emails.emplace(*email, user.id); !fresh) {
        problem(what + ": email " + in_quotes(*email) + " is also user " + std::to_string(it->second) +
                "'s (emails are compared lower-cased)");
        continue;
      }
      if (!is_bcrypt_hash(user.hashed_password)) {
        problem(what + " (" + *email + "): the password hash is not a bcrypt hash");
        continue;
      }
      if (!user.created_at) {
        problem(what + " (" + *email + "): created_at is not a timestamp");
        continue;
      }
      if (const auto there = target.user_by_email.find(*email); there != target.user_by_email.end()) {
        user_ids[user.id] = there->second;
        plan.skipped.push_back(what + " (" + *email + "): already there as user " + std::to_string(there->second));
        continue;
      }
      if (ids.is_free(user.id)) {
        user_ids[user.id] = user.id;
        plan.users.push_back({user.id, *email, user.hashed_password, *user.created_at});
      } else {
        to_number.emplace_back(&user, *email);
      }
    }
    for (const auto& [user, email] : to_number) {
      const id fresh = ids.fresh();
      user_ids[user->id] = fresh;
      plan.users.push_back({fresh, email, user->hashed_password, *user->created_at});
      plan.renumbered.push_back("user " + std::to_string(user->id) + " (" + email + ") is user " +
                                std::to_string(fresh) + ": its id is taken");
    }
  }

  const target_state::organization* imported_before(const source_organization& o, const domain::cidr& subnet,
                                                    id owner) const {
    for (const auto& there : target.organizations)
      if (there.name == o.name && there.subnet == subnet && there.owner_id == owner &&
          there.created_at == *o.created_at)
        return &there;
    return nullptr;
  }

  void organizations_() {
    std::set<id> taken;
    for (const auto& o : target.organizations) taken.insert(o.id);
    id_allocator ids(taken, max_id(source.organizations));
    std::vector<std::pair<id, planned_organization>> to_number;  // source id, the row to number
    for (const auto& o : source.organizations) {
      const std::string what = "organization " + std::to_string(o.id);
      const auto name = domain::validate_organization_name(o.name);
      const auto subnet = domain::validate_subnet(o.subnet);
      const auto owner = user_ids.find(o.owner_id);
      if (!name) problem(what + ": name " + in_quotes(o.name) + " refused: " + name.error().msg);
      if (!subnet) problem(what + ": subnet " + in_quotes(o.subnet) + " refused: " + subnet.error().msg);
      if (owner == user_ids.end())
        problem(what + ": its owner, user " + std::to_string(o.owner_id) + ", is not imported");
      if (!o.created_at) problem(what + ": created_at is not a timestamp");
      if (!name || !subnet || owner == user_ids.end() || !o.created_at) continue;
      if (const auto* there = imported_before(o, *subnet, owner->second)) {
        organizations[o.id] = {there->id, *subnet, true};
        plan.skipped.push_back(what + " (" + o.name + "): already there as organization " + std::to_string(there->id));
        continue;
      }
      planned_organization row{o.id, *name, *subnet, owner->second, *o.created_at, 0};
      if (ids.is_free(o.id)) {
        organizations[o.id] = {o.id, *subnet, false};
        plan.organizations.push_back(std::move(row));
      } else {
        to_number.emplace_back(o.id, std::move(row));
      }
    }
    for (auto& [source_id, row] : to_number) {
      row.id = ids.fresh();
      organizations[source_id] = {row.id, row.subnet, false};
      plan.renumbered.push_back("organization " + std::to_string(source_id) + " (" + row.name + ") is organization " +
                                std::to_string(row.id) + ": its id is taken");
      plan.organizations.push_back(std::move(row));
    }
  }

  void members() {
    std::set<id> used = target.membership_ids;
    std::set<id> owners_seen;  // source organizations whose owner is a member with role owner
    for (const auto& m : source.members) {
      const std::string what = "membership " + std::to_string(m.id);
      const auto organization = organizations.find(m.organization_id);
      const auto user = user_ids.find(m.user_id);
      const auto role = domain::parse_role(m.role);
      const auto* source_org = find_source_organization(m.organization_id);
      if (organization == organizations.end())
        problem(what + ": organization " + std::to_string(m.organization_id) + " is not imported");
      if (user == user_ids.end()) problem(what + ": user " + std::to_string(m.user_id) + " is not imported");
      if (!role) problem(what + ": role " + in_quotes(m.role) + " is not owner, admin or member");
      if (!m.joined_at) problem(what + ": joined_at is not a timestamp");
      if (organization == organizations.end() || user == user_ids.end() || !role || !m.joined_at) continue;
      const bool is_owner = source_org->owner_id == m.user_id;
      if (is_owner != (*role == domain::role::owner)) {
        problem(what + ": role " + m.role + " but the organization's owner is user " +
                std::to_string(source_org->owner_id));
        continue;
      }
      if (is_owner) owners_seen.insert(m.organization_id);
      source_members.emplace(m.organization_id, m.user_id);
      const std::pair key{organization->second.target_id, user->second};
      if (target.memberships.contains(key)) {
        plan.skipped.push_back(what + ": user " + std::to_string(key.second) + " is a member of organization " +
                               std::to_string(key.first) + " already");
        continue;
      }
      std::optional<id> kept;
      if (used.insert(m.id).second) kept = m.id;
      plan.members.push_back({kept, key.first, key.second, m.role, *m.joined_at});
    }
    for (const auto& [source_id, organization] : organizations)
      if (!organization.existing && !owners_seen.contains(source_id))
        problem("organization " + std::to_string(source_id) + ": its owner is not a member with role owner");
  }

  const source_organization* find_source_organization(id source_id) const {
    for (const auto& o : source.organizations)
      if (o.id == source_id) return &o;
    return nullptr;
  }

  void addresses() {
    std::set<id> used = target.allocation_ids;
    std::set<std::pair<id, domain::ipv4>> seen;  // (source organization, address)
    std::set<std::pair<id, id>> holders;         // (source organization, source user)
    for (const auto& a : source.addresses) {
      const std::string what = "virtual IP " + std::to_string(a.id) + " (" + a.virtual_ip.substr(0, 45) + ")";
      const auto organization = organizations.find(a.organization_id);
      if (organization == organizations.end()) {
        problem(what + ": organization " + std::to_string(a.organization_id) + " is not imported");
        continue;
      }
      const auto address = domain::validate_address_in(a.virtual_ip, organization->second.subnet);
      if (!address) problem(what + ": not a host address of " + organization->second.subnet.to_string());
      if (!source_members.contains({a.organization_id, a.user_id}))
        problem(what + ": user " + std::to_string(a.user_id) + " is not an imported member of organization " +
                std::to_string(a.organization_id));
      if (!a.allocated_at) problem(what + ": allocated_at is not a timestamp");
      if (!address || !source_members.contains({a.organization_id, a.user_id}) || !a.allocated_at) continue;
      if (!seen.emplace(a.organization_id, *address).second) {
        problem(what + ": held twice in organization " + std::to_string(a.organization_id));
        continue;
      }
      if (!holders.emplace(a.organization_id, a.user_id).second) {
        problem(what + ": user " + std::to_string(a.user_id) + " holds another address in organization " +
                std::to_string(a.organization_id));
        continue;
      }
      const id org = organization->second.target_id;
      const id user = user_ids.at(a.user_id);
      if (const auto holder = target.address_holders.find({org, *address}); holder != target.address_holders.end()) {
        if (holder->second == user)
          plan.skipped.push_back(what + ": user " + std::to_string(user) + " holds it already");
        else
          problem(what + ": held by user " + std::to_string(holder->second) + " in the target's organization " +
                  std::to_string(org));
        continue;
      }
      if (target.own_addresses.contains({org, user})) {
        problem(what + ": user " + std::to_string(user) + " holds another address in the target's organization " +
                std::to_string(org));
        continue;
      }
      std::optional<id> kept;
      if (used.insert(a.id).second) kept = a.id;
      plan.addresses.push_back({kept, org, user, *address, *a.allocated_at, organization->second.existing});
    }
  }

  // A new organization's watermark: past the run of imported addresses from its first host, so
  // that allocation never hands out an imported one. Imported addresses above it are skipped by
  // the allocator when it reaches them (sqlite_addresses.cpp, pg_addresses.cpp), and the free ones
  // in between are handed out first, as the FastAPI server would (lowest free).
  void watermarks() {
    for (auto& o : plan.organizations) {
      std::set<domain::ipv4> held;
      for (const auto& a : plan.addresses)
        if (a.organization_id == o.id) held.insert(a.address);
      domain::ipv4 next = o.subnet.first_host();
      while (held.contains(next)) ++next;
      o.next_host = next;
    }
  }
};

}  // namespace

bool is_bcrypt_hash(std::string_view hash) noexcept {
  constexpr std::string_view alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (hash.size() != 60 || !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")))
    return false;
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(hash[4]) || !digit(hash[5]) || hash[6] != '$') return false;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  return cost >= 4 && cost <= 31 && hash.substr(7).find_first_not_of(alphabet) == std::string_view::npos;
}

import_plan plan_import(const source_database& source, const target_state& target) {
  checker check{source, target, {}, {}, {}, {}};
  check.users();
  check.organizations_();
  check.members();
  check.addresses();
  check.watermarks();
  if (!check.plan.problems.empty()) {
    check.plan.users.clear();
    check.plan.organizations.clear();
    check.plan.members.clear();
    check.plan.addresses.clear();
  }
  return std::move(check.plan);
}

}  // namespace sig::store::fastapi
