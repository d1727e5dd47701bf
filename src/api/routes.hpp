// The REST routes of the server (PROTOCOL.md §2-4, §6), in one table.
#pragma once

#include "api/router.hpp"

#include <span>

namespace sig::api {

std::span<const route> rest_routes() noexcept;

}  // namespace sig::api
