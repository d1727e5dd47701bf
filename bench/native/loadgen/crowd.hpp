// A set of agents with the bookkeeping every WebSocket scenario needs: start them a window at a
// time, register each as soon as it is upgraded, count registrations, failures and errors.
// Scenarios derive from it to hear about the messages they time.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
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

  // With ctx.spread() (agents record whom they hear of): compares, for each agent i of [from, to),
  // the peers announced to it (existing_peers, then peer_online) with `expected(i, out)`, which
  // fills `out` with the agent indices it should have heard of, each as often as it should (in
  // any order), and the peer_offline it received with `offline_expected`. Adds a failure naming
  // the first agents that missed a peer, heard one more often than expected or heard of one not
  // expected, with the processes of both, and one for peer_update messages (no agent changes its
  // endpoints); returns the counts (missing/repeated split by whether the peer's process is the
  // agent's own) and the messages received by type.
  boost::json::object check_peers(int from, int to, const std::function<void(int, std::vector<int>&)>& expected,
                                  int offline_expected, std::vector<std::string>& failures) const;
  // Registered agents of [from, to) per process (ctx.processes).
  boost::json::array registered_per_process(int from, int to) const;

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
  std::int64_t peer_updates = 0;     // peer_update messages (none expected: no agent changes its endpoints)
  std::string peer_update_sample;    // the first one, and who got it

  void on_open(agent& a, clock_type::time_point now) override;
  void on_registered(agent& a, clock_type::time_point now) override;
  void on_error(agent& a, std::string_view msg) override;
  void on_peer_update(agent& a, std::string_view msg) override;
  void on_closed(agent& a) override;

 private:
  void start_next();

  int next_ = 0;
  int end_ = 0;
  int in_progress_ = 0;
  std::vector<std::string> samples_;
};

}  // namespace loadgen
