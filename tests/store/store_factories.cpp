// The store factories of the contract suite: SQLite on a fresh temporary file.
#include "store_factories.hpp"

#include "core/random.hpp"
#include "store/open_store.hpp"

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

}  // namespace

std::vector<store_factory> store_factories() {
  return {
      {"SQLite", [] { return std::make_unique<sqlite_harness>(); }},
      // {"PostgreSQL", [] { return std::make_unique<postgres_harness>(); }},
  };
}

}  // namespace store_test
