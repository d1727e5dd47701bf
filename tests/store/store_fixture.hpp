// The fixture of the store contract suites: a fresh store per test from the factory under test,
// and short helpers to create users, organizations, memberships and allocations.
#pragma once

#include "domain/ipv4.hpp"
#include "store/store.hpp"
#include "store_factories.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace store_test {

/// The newest schema version of both dialects (migrations/<dialect>/V002__token_stamp.sql).
inline constexpr int latest_schema = 2;

namespace domain = sig::domain;
namespace st = sig::store;
using sig::errc;

inline domain::ipv4 ip(std::string_view text) {
  const auto parsed = domain::parse_ipv4(text);
  if (!parsed) throw std::invalid_argument(std::string("bad test address ").append(text));
  return *parsed;
}

inline domain::cidr subnet(std::string_view text) {
  const auto parsed = domain::parse_cidr(text);
  if (!parsed) throw std::invalid_argument(std::string("bad test subnet ").append(text));
  return *parsed;
}

/// prefix + decimal number, e.g. numbered("d", 7) == "d7".
inline std::string numbered(std::string_view prefix, long long n) {
  return std::string(prefix).append(std::to_string(n));
}

/// The value of a result that must have succeeded; a failed test otherwise.
template <class T>
T must(sig::result<T> r, std::string_view what) {
  if (!r) {
    ADD_FAILURE() << what << " failed: errc " << static_cast<int>(r.error().code) << " " << r.error().message();
    throw std::runtime_error(std::string(what) + " failed");
  }
  return std::move(*r);
}

/// The error code of a result that must have failed.
template <class T>
std::optional<errc> error_of(const sig::result<T>& r) {
  if (r) return std::nullopt;
  return r.error().code;
}

class StoreTest : public testing::TestWithParam<store_factory> {
 protected:
  void SetUp() override {
    harness_ = GetParam().create();
    if (!harness_) GTEST_SKIP() << GetParam().name << " is not available (see postgres_test_database.hpp)";
  }
  void TearDown() override { harness_.reset(); }

  st::store& db() { return harness_->db(); }
  store_harness& harness() { return *harness_; }

  /// Strictly increasing fake timestamps, so that ordering by time is observable.
  sig::unix_micros tick() { return now_ += 1000; }

  domain::user user(std::string_view name) {
    const std::string email = std::string(name) + "@example.com";
    return must(
        db().create_user({email, std::string("hash-of-").append(name), tick(), std::string("stamp-of-").append(name)}),
        "create_user " + email);
  }

  domain::organization organization(const domain::user& owner, std::string_view block = "10.0.0.0/24",
                                    domain::join_policy policy = domain::join_policy::open,
                                    std::string_view name = "Acme") {
    return db().create_organization({std::string(name), subnet(block), policy, owner.user_id, tick()});
  }

  domain::membership join(const domain::organization& o, const domain::user& u,
                          std::optional<std::string> code_hash = std::nullopt) {
    return must(db().join({o.organization_id, u.user_id, std::move(code_hash), tick()}), "join " + u.email);
  }

  sig::result<domain::allocation> try_allocate(const domain::organization& o, const domain::user& u,
                                               std::string agent_id = {},
                                               std::optional<std::string_view> address = std::nullopt) {
    std::optional<domain::ipv4> wanted;
    if (address) wanted = ip(*address);
    return db().allocate({o.organization_id, u.user_id, std::move(agent_id), wanted, tick()});
  }

  /// The allocated address, as text.
  std::string allocate(const domain::organization& o, const domain::user& u, std::string agent_id = {},
                       std::optional<std::string_view> address = std::nullopt) {
    return domain::format_ipv4(
        must(try_allocate(o, u, std::move(agent_id), address), "allocate for " + u.email).address);
  }

  /// Released by the organization's owner.
  sig::result<st::removal> release(const domain::organization& o, std::string_view address) {
    return db().release({o.organization_id, o.owner_id, ip(address)});
  }

  /// Removed by the organization's owner.
  sig::result<st::removal> remove(const domain::organization& o, const domain::user& member) {
    return db().remove_member({o.organization_id, o.owner_id, member.user_id});
  }

  /// Role given by the organization's owner.
  sig::result<domain::membership> promote(const domain::organization& o, const domain::user& member,
                                          domain::role role) {
    return db().set_role({o.organization_id, o.owner_id, member.user_id, role});
  }

  std::vector<std::string> addresses_of(const domain::organization& o) {
    std::vector<std::string> text;
    for (const auto& a : db().allocations(o.organization_id)) text.push_back(domain::format_ipv4(a.address));
    return text;
  }

 private:
  std::unique_ptr<store_harness> harness_;
  sig::unix_micros now_ = 1'700'000'000'000'000;
};

}  // namespace store_test
