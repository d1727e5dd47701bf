// The database's records as the administration commands show them (one JSON object each), and
// how a command's argument names a user, an organization or an address.
#pragma once

#include "domain/model.hpp"
#include "domain/presence.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace sig::admin {

boost::json::object user_record(const domain::user& user);
boost::json::object organization_record(const domain::organization& organization);
boost::json::object member_record(const domain::membership& member);
boost::json::object allocation_record(const domain::allocation& allocation);
boost::json::object peer_record(const domain::peer_info& peer);

/// A user by id ("42") or by email; the reason on `err` when none.
std::optional<domain::user> find_user(store::store& db, const std::string& id_or_email, std::ostream& err);
/// An organization by id; the reason on `err` when none.
std::optional<domain::organization> find_organization(store::store& db, domain::id organization_id, std::ostream& err);

/// Prints a refused change (its detail) and returns the exit status 1.
int refused(std::ostream& err, const error& why);

}  // namespace sig::admin
