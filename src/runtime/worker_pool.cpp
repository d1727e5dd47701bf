// Worker pool lifetime; see worker_pool.hpp.
#include "runtime/worker_pool.hpp"

namespace sig::runtime {

worker_pool::worker_pool(std::string name, std::size_t threads, std::size_t queue_limit)
    : name_(std::move(name)), queue_limit_(queue_limit), pool_(threads) {}

worker_pool::~worker_pool() { join(); }

void worker_pool::join() { pool_.join(); }

}  // namespace sig::runtime
