// Everything the API handlers work with, built once at start-up and shared by reference.
#pragma once

#include "api/credential_throttle.hpp"
#include "auth/jwt.hpp"
#include "auth/password_hasher.hpp"
#include "signaling/presence_directory.hpp"
#include "store/store.hpp"
#include "telemetry/metrics.hpp"

namespace sig::api {

/// Rules of the contract that the operator configures.
struct api_policy {
  std::int64_t max_addresses_per_member = 16;  // MAX_ADDRESSES_PER_MEMBER; 0: no limit
};

struct api_services {
  store::store& db;
  const auth::password_hasher& hasher;
  const auth::jwt_codec& tokens;
  signaling::presence_directory& presence;
  const telemetry::metrics& metrics;
  api_policy policy{};
  credential_throttle* throttle = nullptr;  // null: /login and /register are not throttled
  std::string metrics_token{};              // METRICS_TOKEN; empty: /metrics is open
};

}  // namespace sig::api
