// What only the PostgreSQL store has: migrations under an advisory lock when processes start
// together, the mapping of SQLSTATEs to the contract's errors under concurrency from two store
// objects ("two processes"), and a database that goes away and comes back.
#include "postgres_test_database.hpp"
#include "store/open_store.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store_fixture.hpp"
#include "tcp_proxy.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <regex>
#include <thread>

namespace store_test {
namespace {

using sig::store::backend;
using sig::store::open_store;
using sig::store::store_unavailable;

class PostgresStore : public testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_TEST_POSTGRES(url);
    schema = std::make_unique<postgres_schema>(*url);
  }

  std::unique_ptr<st::store> open(const std::string& url) { return open_store({backend::postgres, url}, 4); }
  std::unique_ptr<st::store> open() { return open(schema->url()); }

  /// The schema's URL with another port (a proxy's) and an application_name to find its sessions.
  std::string url_through(std::uint16_t port, const std::string& application) const {
    return std::regex_replace(schema->url(), std::regex(":[0-9]+/"), ":" + std::to_string(port) + "/") +
           "&application_name=" + application + "&connect_timeout=2";
  }
  std::uint16_t server_port() const {
    std::smatch found;
    const std::string url = schema->url();
    if (!std::regex_search(url, found, std::regex(":([0-9]+)/"))) throw std::runtime_error("no port in " + url);
    return static_cast<std::uint16_t>(std::stoi(found[1]));
  }

  std::unique_ptr<postgres_schema> schema;
};

TEST_F(PostgresStore, ProcessesStartingTogetherMigrateOnce) {
  constexpr int processes = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> starting;
  for (int i = 0; i < processes; ++i)
    starting.emplace_back([&] {
      try {
        open();
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  for (auto& t : starting) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(schema->value("SELECT count(*) FROM schema_migrations"), std::to_string(latest_schema));
  EXPECT_EQ(schema->value("SELECT max(version) FROM schema_migrations"), std::to_string(latest_schema));
}

TEST_F(PostgresStore, ASchemaNewerThanThisServerIsRefusedAndLeftAlone) {
  open().reset();
  schema->execute("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
  try {
    open();
    FAIL() << "a database migrated by a newer server was opened";
  } catch (const store_unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  EXPECT_EQ(schema->value("SELECT max(version) FROM schema_migrations"), "99");
}

TEST_F(PostgresStore, ASearchPathWithoutASchemaIsAClearError) {
  try {
    open(schema->url() + "x_missing");
    FAIL() << "opened a store on a missing schema";
  } catch (const store_unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("search_path"), std::string::npos) << e.what();
  }
}

// Unique violations between two processes are the contract's conflicts, never failures.
TEST_F(PostgresStore, RacingRegistrationsAndJoinsAreConflictsNotErrors) {
  auto first = open();
  auto second = open();
  const auto owner = must(first->create_user({"owner@example.com", "h", 1, "stamp"}), "owner");
  const auto o =
      first->create_organization({"Acme", subnet("10.0.0.0/24"), domain::join_policy::open, owner.user_id, 1});
  constexpr int rounds = 40;
  int registered = 0, taken = 0, joined = 0, already = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::string email = numbered("racer", round) + "@example.com";
    sig::result<domain::user> a = sig::fail(errc::internal), b = sig::fail(errc::internal);
    std::thread racing([&] { b = second->create_user({email, "h", 2, "stamp"}); });
    a = first->create_user({email, "h", 2, "stamp"});
    racing.join();
    for (const auto* r : {&a, &b}) {
      if (r->has_value()) {
        ++registered;
      } else {
        EXPECT_EQ(r->error().code, errc::email_taken);
        ++taken;
      }
    }
    ASSERT_TRUE(a.has_value() || b.has_value());
    const domain::id user_id = a ? a->user_id : b->user_id;

    sig::result<domain::membership> x = sig::fail(errc::internal), y = sig::fail(errc::internal);
    std::thread joining([&] { y = second->join({o.organization_id, user_id, std::nullopt, 3}); });
    x = first->join({o.organization_id, user_id, std::nullopt, 3});
    joining.join();
    for (const auto* r : {&x, &y}) {
      if (r->has_value()) {
        ++joined;
      } else {
        EXPECT_EQ(r->error().code, errc::already_member);
        ++already;
      }
    }
  }
  EXPECT_EQ(registered, rounds);
  EXPECT_EQ(taken, rounds);
  EXPECT_EQ(joined, rounds);
  EXPECT_EQ(already, rounds);
  EXPECT_EQ(first->members(o.organization_id).size(), static_cast<std::size_t>(rounds + 1));
}

TEST_F(PostgresStore, ConnectionsDroppedByTheServerAreReopenedWithoutAnError) {
  const std::string application = "drop_" + schema->name();
  auto db = open(schema->url() + "&application_name=" + application);
  const auto alice = must(db->create_user({"alice@example.com", "h", 1, "stamp"}), "alice");
  // What a restart of PostgreSQL does to the connections of the pool.
  schema->value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
                application + "'");
  EXPECT_EQ(db->find_user(alice.user_id)->email, "alice@example.com");
  EXPECT_TRUE(db->is_reachable());
  EXPECT_TRUE(db->create_user({"bob@example.com", "h", 1, "stamp"}).has_value());
}

TEST_F(PostgresStore, ADatabaseThatGoesAwayIsUnavailableAndTheStoreRecoversWhenItReturns) {
  tcp_proxy proxy(server_port());
  auto db = open(url_through(proxy.port(), "proxy_" + schema->name()));
  const auto alice = must(db->create_user({"alice@example.com", "h", 1, "stamp"}), "alice");

  proxy.cut();
  EXPECT_FALSE(db->is_reachable());
  EXPECT_THROW(db->find_user(alice.user_id), store_unavailable);
  EXPECT_THROW(db->create_user({"bob@example.com", "h", 1, "stamp"}), store_unavailable);

  proxy.restore();
  EXPECT_TRUE(db->is_reachable());
  EXPECT_EQ(db->find_user(alice.user_id)->email, "alice@example.com");
  EXPECT_TRUE(db->create_user({"bob@example.com", "h", 1, "stamp"}).has_value());
}

TEST_F(PostgresStore, AServerThatIsNotThereAtStartIsUnavailable) {
  tcp_proxy proxy(server_port());
  proxy.cut();
  EXPECT_THROW(open(url_through(proxy.port(), "absent")), store_unavailable);
}

TEST_F(PostgresStore, PipelinedStatementsAnswerInOrderAndAFailureCarriesItsState) {
  using sig::store::postgres::pg_connection;
  using sig::store::postgres::pg_error;
  using sig::store::postgres::pg_params;
  pg_connection db(schema->url());
  std::vector<pg_params> each;
  for (int i = 1; i <= 200; ++i) each.emplace_back(i);
  const auto rows = db.run_each("SELECT $1::bigint * 2", each);
  ASSERT_EQ(rows.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(rows[static_cast<std::size_t>(i)].int64(0, 0), 2 * (i + 1));

  db.execute("BEGIN");
  const std::vector<pg_params> failing{pg_params(1), pg_params(0), pg_params(2)};
  try {
    db.run_each("SELECT 10 / $1::int", failing);
    FAIL() << "a division by zero went through";
  } catch (const pg_error& e) {
    EXPECT_EQ(e.sqlstate(), "22012");
  }
  db.execute("ROLLBACK");
  EXPECT_EQ(db.run("SELECT 41 + 1").int64(0, 0), 42);  // the connection is usable again
  EXPECT_TRUE(db.is_healthy());
}

}  // namespace
}  // namespace store_test
