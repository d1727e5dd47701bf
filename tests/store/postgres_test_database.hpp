// The PostgreSQL that the store tests run against: started by the test command
// (scripts/test-postgres.sh, as a CTest fixture), found through SIG_TEST_POSTGRES_URL or the file
// named by SIG_TEST_POSTGRES_URL_FILE. Each test gets a schema of its own, dropped afterwards.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace store_test {

/// The server's URL; nullopt when none was configured (PostgreSQL tests then skip, except under
/// CI=true, where they fail: CI must run them).
std::optional<std::string> postgres_test_url();

/// CI=true: the PostgreSQL tests must run.
bool postgres_tests_required();

/// In a fixture's SetUp: the test server's URL into `url`, or the test ends here, skipped (failed
/// when postgres_tests_required()).
#define REQUIRE_TEST_POSTGRES(url)                                                           \
  const auto url = ::store_test::postgres_test_url();                                        \
  if (!url) {                                                                                \
    if (::store_test::postgres_tests_required()) FAIL() << "CI=true but no test PostgreSQL"; \
    GTEST_SKIP() << "no test PostgreSQL (see postgres_test_database.hpp)";                   \
  }

/// A fresh schema on the test server, dropped with this object.
class postgres_schema {
 public:
  explicit postgres_schema(const std::string& server_url);
  postgres_schema(const postgres_schema&) = delete;
  postgres_schema& operator=(const postgres_schema&) = delete;
  ~postgres_schema();

  const std::string& name() const noexcept { return name_; }
  /// The server URL with this schema as its search_path: what DATABASE_URL would be.
  const std::string& url() const noexcept { return url_; }
  /// Runs SQL as an operator with psql would (in this schema); throws on failure.
  void execute(const std::string& sql) const;
  /// The first column of the first row of `sql`, as text ("" when there is no row).
  std::string value(const std::string& sql) const;

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

}  // namespace store_test
