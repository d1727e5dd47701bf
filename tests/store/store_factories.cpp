// The store factories of the contract suite: SQLite on a fresh temporary file, PostgreSQL in a
// fresh schema of the test server.
#include "store_factories.hpp"

#include "core/random.hpp"
#include "postgres_test_database.hpp"
#include "store/open_store.hpp"

#include <cstdlib>
#include <filesystem>

namespace store_test {
namespace {

namespace fs = std::filesystem;

class sqlite_harness final : public store_harness {
 public:
  sqlite_harness() : dir_(fs::temp_directory_path() / ("sig-store-test-" + sig::random_hex(8))) {
    fs::create_directories(dir_);
    location_ = {sig::store::backend::sqlite, (dir_ / "signaling.db").string()};
    store_ = sig::store::open_store(location_, readers);
  }
  ~sqlite_harness() override {
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  sig::store::store& db() override { return *store_; }
  void reopen() override {
    store_.reset();
    store_ = sig::store::open_store(location_, readers);
  }
  std::unique_ptr<sig::store::store> open_another() override { return sig::store::open_store(location_, readers); }

 private:
  static constexpr std::size_t readers = 4;
  fs::path dir_;
  sig::store::database_location location_;
  std::unique_ptr<sig::store::store> store_;
};

class postgres_harness final : public store_harness {
 public:
  explicit postgres_harness(const std::string& server_url)
      : schema_(server_url), location_{sig::store::backend::postgres, schema_.url()} {
    store_ = sig::store::open_store(location_, connections);
  }
  ~postgres_harness() override { store_.reset(); }

  sig::store::store& db() override { return *store_; }
  void reopen() override {
    store_.reset();
    store_ = sig::store::open_store(location_, connections);
  }
  std::unique_ptr<sig::store::store> open_another() override { return sig::store::open_store(location_, connections); }
  const postgres_schema* postgres() const override { return &schema_; }

 private:
  static constexpr std::size_t connections = 4;
  postgres_schema schema_;
  sig::store::database_location location_;
  std::unique_ptr<sig::store::store> store_;
};

std::unique_ptr<store_harness> open_postgres() {
  const auto url = postgres_test_url();
  if (!url) {
    if (postgres_tests_required())
      throw std::runtime_error("CI=true but no test PostgreSQL: set SIG_TEST_POSTGRES_URL(_FILE)");
    return nullptr;
  }
  return std::make_unique<postgres_harness>(*url);
}

}  // namespace

std::vector<store_factory> store_factories() {
  return {
      {"SQLite", [] { return std::make_unique<sqlite_harness>(); }},
      {"PostgreSQL", open_postgres},
  };
}

}  // namespace store_test
