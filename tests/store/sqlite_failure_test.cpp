// The SQLite store when its files are attacked under it: the database file deleted or replaced,
// a -shm file truncated or made unreadable, writes failing for lack of room. A file-size limit
// (RLIMIT_FSIZE) stands in for a full disk here; tests/e2e/test_database_failures.py fills a real
// filesystem.
#include "core/random.hpp"
#include "store/open_store.hpp"
#include "store_fixture.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace store_test {
namespace {

namespace fs = std::filesystem;
using sig::store::backend;
using sig::store::open_store;
using sig::store::store_unavailable;

class SqliteFailure : public testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("sig-sqlite-failure-" + sig::random_hex(8));
    fs::create_directories(dir);
    file = dir / "signaling.db";
    db = open_store({backend::sqlite, file.string()}, 2);
  }
  void TearDown() override {
    db.reset();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  sig::result<domain::user> new_user(const std::string& name) {
    return db->create_user({name + "@example.com", "h", ++now, "stamp"});
  }

  fs::path dir;
  fs::path file;
  std::unique_ptr<sig::store::store> db;
  sig::unix_micros now = 0;
};

TEST_F(SqliteFailure, ADeletedFileRefusesWritesReadsAndReadiness) {
  const auto alice = must(new_user("alice"), "create_user");
  ASSERT_TRUE(db->is_reachable());
  fs::remove(file);
  // SQLite would write on into the deleted file, and all of it would be gone at the next start.
  EXPECT_THROW(new_user("bob"), store_unavailable);
  EXPECT_FALSE(db->is_reachable());
  // Now that it is known, reads of the vanished database are refused as well.
  EXPECT_THROW(db->find_user(alice.user_id), store_unavailable);
  EXPECT_FALSE(fs::exists(file)) << "the database file was recreated";
}

TEST_F(SqliteFailure, ADeletedFileIsNoticedByReadinessAlone) {
  must(new_user("alice"), "create_user");
  fs::remove(file);
  EXPECT_FALSE(db->is_reachable());
  EXPECT_THROW(db->find_user_by_email("alice@example.com"), store_unavailable);
}

TEST_F(SqliteFailure, AReplacedFileIsNotWrittenUntilTheOpenedOneIsBack) {
  must(new_user("alice"), "create_user");
  const fs::path moved = dir / "moved-away.db";
  fs::rename(file, moved);
  fs::copy_file(moved, file);  // a copy is another file: what a restart would serve, not this store's
  EXPECT_THROW(new_user("bob"), store_unavailable);
  EXPECT_FALSE(db->is_reachable());

  fs::remove(file);
  fs::rename(moved, file);
  EXPECT_TRUE(db->is_reachable());
  EXPECT_TRUE(new_user("bob").has_value());
  EXPECT_TRUE(db->find_user_by_email("bob@example.com").has_value());
}

// With the WAL index in a memory-mapped -shm file, truncating that file under the process killed
// it with SIGBUS at its next transaction. The store keeps the index in its own memory instead.
TEST_F(SqliteFailure, ATruncatedOrUnreadableShmFileChangesNothing) {
  const auto alice = must(new_user("alice"), "create_user");
  const fs::path shm = file.string() + "-shm";
  EXPECT_FALSE(fs::exists(shm)) << "the WAL index is in a shared-memory file that others can truncate";
  std::ofstream{shm, std::ios::trunc};  // `truncate -s 0`, which creates it too
  fs::permissions(shm, fs::perms::none);
  EXPECT_EQ(db->find_user(alice.user_id)->email, "alice@example.com");
  EXPECT_TRUE(new_user("bob").has_value());
  EXPECT_TRUE(db->find_user_by_email("bob@example.com").has_value());
  EXPECT_TRUE(db->is_reachable());
}

/// Files of this process cannot grow past their current size while it lives (EFBIG, as on a full
/// disk); SIGXFSZ is ignored meanwhile.
class file_size_limit {
 public:
  explicit file_size_limit(rlim_t bytes) : previous_signal_(std::signal(SIGXFSZ, SIG_IGN)) {
    getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limited = previous_;
    limited.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~file_size_limit() { lift(); }
  file_size_limit(const file_size_limit&) = delete;
  file_size_limit& operator=(const file_size_limit&) = delete;

  void lift() {
    if (lifted_) return;
    setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_signal_);
    lifted_ = true;
  }

 private:
  rlimit previous_{};
  void (*previous_signal_)(int);
  bool lifted_ = false;
};

TEST_F(SqliteFailure, WritesFailingForLackOfRoomFailReadinessUntilThereIsRoomAgain) {
  must(new_user("alice"), "create_user");
  ASSERT_TRUE(db->is_reachable());
  const fs::path wal = file.string() + "-wal";
  ASSERT_TRUE(fs::exists(wal));
  const auto largest = std::max(fs::file_size(file), fs::file_size(wal));
  {
    file_size_limit full(largest);
    EXPECT_THROW(new_user("bob"), store_unavailable);
    // Reads still work: the database is whole, there is only no room for more.
    EXPECT_TRUE(db->find_user_by_email("alice@example.com").has_value());
    EXPECT_FALSE(db->is_reachable());
    EXPECT_FALSE(db->is_reachable()) << "readiness recovered while there is still no room";
    full.lift();
    EXPECT_TRUE(db->is_reachable());
  }
  EXPECT_TRUE(new_user("bob").has_value());
  EXPECT_TRUE(db->is_reachable());
}

TEST_F(SqliteFailure, FailuresThatAreNotAboutRoomLeaveReadinessAlone) {
  must(new_user("alice"), "create_user");
  EXPECT_FALSE(new_user("alice").has_value());  // email_taken: a rolled-back write, not a failure
  EXPECT_TRUE(db->is_reachable());
}

}  // namespace
}  // namespace store_test
