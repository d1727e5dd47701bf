// Everything the API handlers work with, built once at start-up and shared by reference.
#pragma once

#include "auth/jwt.hpp"
#include "auth/password_hasher.hpp"
#include "signaling/presence_directory.hpp"
#include "store/store.hpp"
#include "telemetry/metrics.hpp"

namespace sig::api {

struct api_services {
  store::store& db;
  const auth::password_hasher& hasher;
  const auth::jwt_codec& tokens;
  signaling::presence_directory& presence;
  const telemetry::metrics& metrics;
};

}  // namespace sig::api
