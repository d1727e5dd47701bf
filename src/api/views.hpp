// The JSON shapes of the contract's records (PROTOCOL.md §2-4), one function per shape.
#pragma once

#include "domain/model.hpp"

#include <boost/json/object.hpp>

namespace sig::api {

/// {"id", "email", "created_at"}
boost::json::object user_view(const domain::user& u);
/// {"id", "name", "subnet", "owner_id", "join_policy", "created_at"}
boost::json::object organization_view(const domain::organization& o);
/// {"organization_id", "user_id", "email", "role", "joined_at"}
boost::json::object membership_view(const domain::membership& m);
/// {"organization_id", "user_id", "agent_id", "virtual_ip", "allocated_at"}
boost::json::object allocation_view(const domain::allocation& a);
/// {"user_id", "email", "agent_id", "virtual_ip", "allocated_at", "online"}
boost::json::object address_listing_view(const domain::allocation& a, bool online);
/// {"code", "max_uses", "expires_at"}
boost::json::object invite_view(const domain::invite& i);

}  // namespace sig::api
