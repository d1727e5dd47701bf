// What the server and the administration commands both derive from the configuration: the JWT
// signing key (SECRET_KEY, else one generated once and kept) and the password hasher.
#pragma once

#include "app/config.hpp"
#include "auth/password_hasher.hpp"
#include "store/open_store.hpp"

#include <filesystem>
#include <string>

namespace sig::app {

/// Where the generated key is kept when SECRET_KEY is unset and the database is SQLite: beside it.
std::filesystem::path secret_file(const store::database_location& location);

/// SECRET_KEY; else PostgreSQL: the key kept in the database for every process; else the key file
/// (secret_file), generated on first use. Warns when it is not SECRET_KEY.
std::string signing_key(const server_config& config, const store::database_location& location, store::store& db);

/// The Argon2id hasher at the configured cost; warns when that cost is below OWASP's minimum.
auth::password_hasher make_hasher(const server_config& config);

}  // namespace sig::app
