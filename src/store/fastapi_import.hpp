// Migration from the FastAPI server (signaling-server import): its users, organizations,
// memberships and virtual IPs, read from its database (SQLite or PostgreSQL, as SQLAlchemy created
// it) and written into this server's database in one transaction, keeping ids where they are free.
#pragma once

#include "core/clock.hpp"
#include "store/open_store.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace sig::store::fastapi {

/// The source is not a FastAPI database (a table or column is missing) or cannot be read.
class source_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The FastAPI server's rows as it stores them (app/models.py). Timestamps were naive UTC
// DateTime columns; the readers convert them (nullopt: unreadable, reported by the plan).
struct source_user {
  std::int64_t id = 0;
  std::string email;
  std::string hashed_password;
  std::optional<unix_micros> created_at;
};
struct source_organization {
  std::int64_t id = 0;
  std::string name;
  std::string subnet;
  std::int64_t owner_id = 0;
  std::optional<unix_micros> created_at;
};
struct source_member {
  std::int64_t id = 0;
  std::int64_t organization_id = 0;
  std::int64_t user_id = 0;
  std::string role;
  std::optional<unix_micros> joined_at;
};
struct source_address {
  std::int64_t id = 0;
  std::int64_t organization_id = 0;
  std::int64_t user_id = 0;
  std::string virtual_ip;
  std::optional<unix_micros> allocated_at;
};

struct source_database {
  std::vector<source_user> users;
  std::vector<source_organization> organizations;
  std::vector<source_member> members;
  std::vector<source_address> addresses;
};

/// Reads every row, by id. Throws source_error; store_unavailable when the database cannot be
/// reached. A SQLite source is opened read-only (a missing file is an error, never created).
source_database read_source(const database_location& source);

/// Rows per table of this server's database.
struct table_counts {
  std::int64_t users = 0;
  std::int64_t organizations = 0;
  std::int64_t memberships = 0;
  std::int64_t addresses = 0;
};

struct import_report {
  table_counts before;
  table_counts after;  // with dry_run: what the import would leave
  table_counts imported;
  std::vector<std::string> skipped;     // rows already there (a second import), and why
  std::vector<std::string> renumbered;  // rows whose id was taken in the target
  std::vector<std::string> problems;    // rows this server cannot take: nothing was written
  bool written = false;
};

/// Migrates `target` (as the server would), then writes `source` into it in one transaction:
/// nothing when a row is refused (report.problems) or with `dry_run`. Throws store_unavailable.
import_report import_into(const database_location& target, const source_database& source, bool dry_run);

/// SQLAlchemy's text form of a naive DateTime ("2026-12-02 15:04:05.123456", the fraction
/// optional, 'T' accepted) as microseconds since the epoch, read as UTC; nullopt when malformed.
std::optional<unix_micros> parse_naive_utc(std::string_view text);

}  // namespace sig::store::fastapi
