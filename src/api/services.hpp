// Everything the API handlers work with, built once at start-up and shared by reference.
#pragma once

#include "auth/jwt.hpp"
#include "auth/password_hasher.hpp"
#include "store/store.hpp"

namespace sig::api {

struct api_services {
  store::store& db;
  const auth::password_hasher& hasher;
  const auth::jwt_codec& tokens;
};

}  // namespace sig::api
