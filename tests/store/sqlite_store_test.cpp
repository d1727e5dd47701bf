// What only the SQLite store has: its file, its schema migrations, the database-level uniqueness
// constraints, and DATABASE_URL parsing in open_store.
#include "core/random.hpp"
#include "store/open_store.hpp"
#include "store_fixture.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace store_test {
namespace {

namespace fs = std::filesystem;
using sig::store::backend;
using sig::store::database_location;
using sig::store::open_store;
using sig::store::parse_database_url;
using sig::store::store_unavailable;

// Direct access to the database file, as an operator with the sqlite3 shell would have.
class raw_database {
 public:
  explicit raw_database(const fs::path& file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + file.string());
    sqlite3_busy_timeout(db_, 5000);
  }
  ~raw_database() { sqlite3_close(db_); }
  raw_database(const raw_database&) = delete;
  raw_database& operator=(const raw_database&) = delete;

  /// The result code of running `sql`.
  int exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); }

  std::int64_t number(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
    std::int64_t value = -1;
    if (sqlite3_step(statement) == SQLITE_ROW) value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStore : public testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("sig-sqlite-test-" + sig::random_hex(8));
    fs::create_directories(dir);
    file = dir / "signaling.db";
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  std::unique_ptr<sig::store::store> open() { return open_store({backend::sqlite, file.string()}, 2); }

  fs::path dir;
  fs::path file;
};

TEST_F(SqliteStore, CreatesTheFileAndMigratesOnce) {
  {
    auto db = open();
    ASSERT_TRUE(db->create_user({"alice@example.com", "h", 1, "stamp"}).has_value());
  }
  EXPECT_TRUE(fs::exists(file));
  // Opening again (twice) keeps the data and applies nothing twice.
  for (int i = 0; i < 2; ++i) {
    auto db = open();
    EXPECT_TRUE(db->find_user_by_email("alice@example.com").has_value());
    EXPECT_TRUE(db->is_reachable());
  }
  raw_database raw(file);
  EXPECT_EQ(raw.number("SELECT COUNT(*) FROM schema_migrations"), latest_schema);
  EXPECT_EQ(raw.number("SELECT MAX(version) FROM schema_migrations"), latest_schema);
  EXPECT_EQ(raw.number("SELECT COUNT(*) FROM users"), 1);
}

TEST_F(SqliteStore, TwoStoresOpeningOneFileTogetherAgree) {
  auto first = open();
  auto second = open();  // migrations already applied: nothing to do, no error
  const auto u = first->create_user({"a@example.com", "h", 1, "stamp"});
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(second->find_user(u->user_id)->email, "a@example.com");
  EXPECT_EQ(error_of(second->create_user({"a@example.com", "h", 2, "stamp"})), errc::email_taken);
}

TEST_F(SqliteStore, NewerSchemaVersionIsRefused) {
  open().reset();
  {
    raw_database raw(file);
    ASSERT_EQ(raw.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                       std::to_string(latest_schema + 1) + ", 0)"),
              SQLITE_OK);
  }
  try {
    open();
    FAIL() << "a database migrated by a newer server was opened";
  } catch (const store_unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  {
    raw_database raw(file);
    EXPECT_EQ(raw.number("SELECT MAX(version) FROM schema_migrations"), latest_schema + 1);  // left as it was
    ASSERT_EQ(raw.exec("DELETE FROM schema_migrations WHERE version > " + std::to_string(latest_schema)), SQLITE_OK);
  }
  EXPECT_NO_THROW(open());
}

TEST_F(SqliteStore, MuchNewerSchemaVersionIsRefusedToo) {
  open().reset();
  {
    raw_database raw(file);
    ASSERT_EQ(raw.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)"), SQLITE_OK);
  }
  EXPECT_THROW(open(), store_unavailable);
}

TEST_F(SqliteStore, NotADatabaseIsUnavailable) {
  std::ofstream(file) << std::string(4096, 'x');
  EXPECT_THROW(open(), store_unavailable);
}

TEST_F(SqliteStore, UnopenablePathIsUnavailable) {
  EXPECT_THROW(open_store({backend::sqlite, (dir / "missing" / "dir" / "x.db").string()}, 1), store_unavailable);
}

TEST_F(SqliteStore, TheDatabaseItselfRefusesDuplicateAddresses) {
  sig::result<domain::allocation> held;
  sig::domain::id organization_id = 0;
  sig::domain::id user_id = 0;
  {
    auto db = open();
    const auto owner = must(db->create_user({"owner@example.com", "h", 1, "stamp"}), "user");
    const auto o =
        db->create_organization({"Acme", subnet("10.0.0.0/24"), domain::join_policy::open, owner.user_id, 1});
    held = db->allocate({o.organization_id, owner.user_id, "laptop", std::nullopt, 1});
    ASSERT_TRUE(held.has_value());
    organization_id = o.organization_id;
    user_id = owner.user_id;
  }
  raw_database raw(file);
  const std::string org = std::to_string(organization_id);
  const std::string user = std::to_string(user_id);
  // Another device of the owner on the same address: UNIQUE (organization_id, address).
  EXPECT_EQ(raw.exec("INSERT INTO allocations (organization_id, user_id, agent_id, address, allocated_at) VALUES (" +
                     org + ", " + user + ", 'other', " + std::to_string(held->address) + ", 0)") &
                0xFF,
            SQLITE_CONSTRAINT);
  // A second address for the same device: UNIQUE (organization_id, user_id, agent_id).
  EXPECT_EQ(raw.exec("INSERT INTO allocations (organization_id, user_id, agent_id, address, allocated_at) VALUES (" +
                     org + ", " + user + ", 'laptop', " + std::to_string(held->address + 1) + ", 0)") &
                0xFF,
            SQLITE_CONSTRAINT);
  EXPECT_EQ(raw.number("SELECT COUNT(*) FROM allocations"), 1);
}

// ---------------------------------------------------------------------------------------------
// DATABASE_URL

TEST(DatabaseUrl, ParsesSqliteAndPostgresUrls) {
  const auto relative = parse_database_url("sqlite:///signaling.db");
  EXPECT_EQ(relative.kind, backend::sqlite);
  EXPECT_EQ(relative.target, "signaling.db");
  const auto absolute = parse_database_url("sqlite:////var/lib/signaling/db.sqlite");
  EXPECT_EQ(absolute.kind, backend::sqlite);
  EXPECT_EQ(absolute.target, "/var/lib/signaling/db.sqlite");
  const auto nested = parse_database_url("sqlite:///data/x.db");
  EXPECT_EQ(nested.target, "data/x.db");
  for (const char* url : {"postgresql://user:pw@localhost:5432/signaling", "postgres://localhost/db"}) {
    const auto pg = parse_database_url(url);
    EXPECT_EQ(pg.kind, backend::postgres) << url;
    EXPECT_EQ(pg.target, url);
  }
  // SQLAlchemy's spelling names a driver; libpq gets the plain scheme and everything after it.
  const auto psycopg = parse_database_url("postgresql+psycopg2://user:pw@db.example:5433/sig?sslmode=require");
  EXPECT_EQ(psycopg.kind, backend::postgres);
  EXPECT_EQ(psycopg.target, "postgresql://user:pw@db.example:5433/sig?sslmode=require");
  EXPECT_EQ(parse_database_url("postgresql+asyncpg://localhost/db").target, "postgresql://localhost/db");
}

TEST(DatabaseUrl, RefusesEverythingElse) {
  for (const char* url :
       {"", "sqlite:///", "sqlite://relative.db", "sqlite:relative.db", "signaling.db", "mysql://localhost/db",
        "SQLITE:///x.db", "http://x", "postgresql+://localhost/db", "postgresql+psycopg2:/localhost/db",
        "postgresql+psy copg://localhost/db", "postgres+psycopg2://localhost/db"}) {
    EXPECT_THROW(parse_database_url(url), std::invalid_argument) << url;
  }
}

TEST(DatabaseUrl, DatabaseDirectoryIsBesideTheFile) {
  EXPECT_EQ(sig::store::database_directory({backend::sqlite, "/var/lib/signaling/db.sqlite"}),
            fs::path("/var/lib/signaling"));
  EXPECT_EQ(sig::store::database_directory({backend::sqlite, "data/x.db"}), fs::path("data"));
  EXPECT_EQ(sig::store::database_directory({backend::sqlite, "x.db"}), fs::current_path());
  EXPECT_EQ(sig::store::database_directory({backend::postgres, "postgresql://localhost/db"}), fs::current_path());
}

TEST(DatabaseUrl, UnreachablePostgresIsUnavailable) {
  // Whether or not this build has the PostgreSQL store, nothing listens on port 1.
  EXPECT_THROW(open_store({backend::postgres, "postgresql://127.0.0.1:1/signaling?connect_timeout=2"}, 1),
               store_unavailable);
}

}  // namespace
}  // namespace store_test
