// A bounded set of PostgreSQL connections lent to one thread at a time, opened when first needed
// and opened again after the server dropped them (a restart): a database that is down makes
// calls fail with store_unavailable, and the pool recovers by itself when it returns.
#pragma once

#include "core/error.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace sig::store::postgres {

class pg_pool {
 public:
  /// At most `size` connections to `conninfo`.
  pg_pool(std::string conninfo, std::size_t size);

  /// f(pg_connection&) on one connection, outside any transaction: for single statements
  /// (autocommit). A connection found broken is reopened and f run again, once: use it for
  /// statements that may run twice.
  template <class F>
  auto read(F&& f);

  /// f(pg_connection&) inside BEGIN ... COMMIT (READ COMMITTED). Rolled back when f throws or
  /// returns a failed result<>. A serialization failure or a deadlock runs f again, from the
  /// start, a few times; so does a connection found broken before the transaction began.
  template <class F>
  auto transact(F&& f);

  const std::string& conninfo() const noexcept { return conninfo_; }

 private:
  class lease {
   public:
    explicit lease(pg_pool& pool);
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease();
    /// The connection, opened if the slot has none or a broken one. Throws store_unavailable.
    pg_connection& connection();
    /// True when the connection was in use before this lease: it may have been dropped by the
    /// server since (a restart) without libpq knowing yet.
    bool reused() const noexcept { return reused_; }
    /// Closes the connection: the next lease opens a new one.
    void discard() noexcept;

   private:
    pg_pool& pool_;
    std::unique_ptr<pg_connection> connection_;
    bool reused_ = false;
  };

  static constexpr int max_attempts = 5;
  static void rollback_quietly(pg_connection& db) noexcept;
  static bool is_retryable(const pg_error& e) noexcept;

  std::string conninfo_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pg_connection>> idle_;  // null entries: slots without a connection
};

template <class F>
auto pg_pool::read(F&& f) {
  for (int attempt = 1;; ++attempt) {
    lease borrowed(*this);
    try {
      return f(borrowed.connection());
    } catch (const store_unavailable&) {
      borrowed.discard();
      if (attempt > 1 || !borrowed.reused()) throw;
    }
  }
}

template <class F>
auto pg_pool::transact(F&& f) {
  for (int attempt = 1;; ++attempt) {
    lease borrowed(*this);
    pg_connection& db = borrowed.connection();
    try {
      db.execute("BEGIN");
    } catch (const store_unavailable&) {
      borrowed.discard();
      if (attempt > 1 || !borrowed.reused()) throw;
      continue;
    }
    try {
      auto outcome = f(db);
      if constexpr (is_result_v<decltype(outcome)>) {
        if (!outcome) {
          rollback_quietly(db);
          return outcome;
        }
      }
      db.execute("COMMIT");
      return outcome;
    } catch (const pg_error& e) {
      rollback_quietly(db);
      if (!is_retryable(e) || attempt >= max_attempts) throw;
    } catch (...) {
      rollback_quietly(db);
      throw;
    }
  }
}

}  // namespace sig::store::postgres
