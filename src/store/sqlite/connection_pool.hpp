// A fixed set of SQLite connections lent to one thread at a time; waits when all are in use.
#pragma once

#include "store/sqlite/connection.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sig::store::sqlite {

class connection_pool {
 public:
  connection_pool(const std::string& path, std::size_t size);

  /// Runs f(connection&) on a free connection.
  template <class F>
  decltype(auto) with_connection(F&& f) {
    lease borrowed(*this);
    return f(*borrowed.db);
  }

 private:
  struct lease {
    explicit lease(connection_pool& pool);
    ~lease();
    connection_pool& pool;
    connection* db;
  };

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<connection>> all_;
  std::vector<connection*> idle_;
};

}  // namespace sig::store::sqlite
