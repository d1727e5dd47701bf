// Worker pool lifetime; see worker_pool.hpp.
#include "runtime/worker_pool.hpp"

namespace sig::runtime {

worker_pool::worker_pool(std::size_t threads, std::size_t queue_limit) : queue_limit_(queue_limit), pool_(threads) {}

worker_pool::~worker_pool() { join(); }

void worker_pool::join() { pool_.join(); }

}  // namespace sig::runtime
