// A set of agents with the bookkeeping every WebSocket scenario needs: start them a window at a
// time, register each as soon as it is upgraded, count registrations, failures and errors.
// Scenarios derive from it to hear about the messages they time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent.hpp"
#include "setup.hpp"

namespace loadgen {

class crowd : public agent_events {
 public:
  crowd(context& ctx, const std::vector<account>& accounts);

  // Starts agents [from, to), at most `window` of them between connect and registration at a
  // time, and runs until each has registered or failed. False on time-out.
  bool join(int from, int to, int window, double timeout_s);
  // Runs until every agent of [from, to) knows `peers(i)` others. False on time-out.
  template <class Peers>
  bool settle(int from, int to, Peers peers, double timeout_s) {
    auto done = [&] {
      for (int i = from; i < to; ++i)
        if (agents[i]->known != peers(i)) return false;
      return true;
    };
    return ctx.run_until(done, timeout_s);
  }
  // Closes every agent's WebSocket politely and waits (briefly) for the server's close frames.
  void leave_all(double timeout_s = 5);

  std::int64_t total_frames() const;
  // Failures to report: errors seen (first few quoted), agents that failed.
  void add_failures(std::vector<std::string>& failures) const;

  context& ctx;
  std::vector<std::unique_ptr<agent>> agents;
  bool register_on_open = true;
  int registered = 0;
  int failed = 0;
  std::int64_t errors = 0;
  std::int64_t rate_limited = 0;  // {"error": "Rate limit exceeded"}
  clock_type::time_point last_registered{};
  std::map<int, int> server_closes;  // close code -> connections the server closed unasked

  void on_open(agent& a, clock_type::time_point now) override;
  void on_registered(agent& a, clock_type::time_point now) override;
  void on_error(agent& a, std::string_view msg) override;
  void on_closed(agent& a) override;

 private:
  void start_next();

  int next_ = 0;
  int end_ = 0;
  int in_progress_ = 0;
  std::vector<std::string> samples_;
};

}  // namespace loadgen
