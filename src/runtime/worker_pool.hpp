// A fixed pool of threads for blocking work (Argon2id, database calls) with a bound on the work
// waiting for it. Coroutines on I/O threads co_await run(); they resume on their own executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>

namespace sig::runtime {

class worker_pool {
 public:
  /// `queue_limit`: how many tasks may be accepted (running or waiting) at once.
  worker_pool(std::size_t threads, std::size_t queue_limit);
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool();

  /// Runs `task` on a worker and resumes the caller on its own executor with the result; an
  /// exception of the task is rethrown in the caller. Returns nullopt at once, without running
  /// the task, when the pool is saturated.
  template <class Task, class R = std::invoke_result_t<Task&>>
  boost::asio::awaitable<std::optional<R>> run(Task task);

  /// Finishes queued work and joins the threads.
  void join();

 private:
  std::size_t queue_limit_;
  std::atomic<std::size_t> pending_{0};
  boost::asio::thread_pool pool_;
};

template <class Task, class R>
boost::asio::awaitable<std::optional<R>> worker_pool::run(Task task) {
  namespace asio = boost::asio;
  if (pending_.fetch_add(1, std::memory_order_relaxed) >= queue_limit_) {
    pending_.fetch_sub(1, std::memory_order_relaxed);
    co_return std::nullopt;
  }
  auto initiation = [this, &task](auto handler) {
    auto resume_on = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(pool_, [this, task = std::move(task), handler = std::move(handler),
                       resume_on = std::move(resume_on)]() mutable {
      std::exception_ptr failure;
      std::optional<R> value;
      try {
        value.emplace(task());
      } catch (...) {
        failure = std::current_exception();
      }
      pending_.fetch_sub(1, std::memory_order_relaxed);
      auto executor = resume_on.get_executor();
      asio::dispatch(executor, [handler = std::move(handler), failure, value = std::move(value)]() mutable {
        std::move(handler)(failure, std::move(value));
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, std::optional<R>)>(
      std::move(initiation), asio::use_awaitable);
}

}  // namespace sig::runtime
