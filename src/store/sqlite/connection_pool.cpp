// Connection lending; see connection_pool.hpp.
#include "store/sqlite/connection_pool.hpp"

namespace sig::store::sqlite {

connection_pool::connection_pool(const std::string& path, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    all_.push_back(std::make_unique<connection>(path));
    idle_.push_back(all_.back().get());
  }
}

connection_pool::lease::lease(connection_pool& p) : pool(p) {
  std::unique_lock lock(pool.mutex_);
  pool.available_.wait(lock, [&] { return !pool.idle_.empty(); });
  db = pool.idle_.back();
  pool.idle_.pop_back();
}

connection_pool::lease::~lease() {
  {
    std::lock_guard lock(pool.mutex_);
    pool.idle_.push_back(db);
  }
  pool.available_.notify_one();
}

}  // namespace sig::store::sqlite
