// fanout: N agents of one organization stay connected; R times a newcomer registers, and later
// leaves. Measured per round: from the newcomer's `register` frame to the `peer_online` about it
// at each of the N, and from its close frame to the `peer_offline` at each; the round's figure
// is the last receiver's. The generator reads the N frames one after another, so the last
// receiver's time includes that reading: compare against sig-ceiling, which has the same cost.
#include <cmath>
#include <cstdio>

#include "../common/json_scan.hpp"
#include "crowd.hpp"
#include "report.hpp"
#include "scenarios.hpp"

namespace loadgen {

namespace {

class fanout_crowd final : public crowd {
 public:
  using crowd::crowd;

  agent* newcomer = nullptr;
  bool watching_online = false;
  bool watching_offline = false;
  clock_type::time_point t_sent{};
  int got = 0;
  double last_ms = 0;
  std::vector<double> each_ms;  // every (round, receiver)

  void on_open(agent& a, clock_type::time_point now) override {
    if (&a == newcomer) {
      // The newcomer registers once the round's watchers are armed (run_fanout).
      return;
    }
    crowd::on_open(a, now);
  }
  void on_peer_online(agent&, std::string_view msg, clock_type::time_point now) override {
    if (!watching_online) return;
    if (jscan::str(jscan::field(jscan::field(msg, "peer"), "agent_id")) != newcomer->agent_id) return;
    record(now);
  }
  void on_peer_offline(agent&, std::string_view msg, clock_type::time_point now) override {
    if (!watching_offline) return;
    if (jscan::str(jscan::field(msg, "virtual_ip")) != newcomer->virtual_ip) return;
    record(now);
  }

 private:
  void record(clock_type::time_point now) {
    const double ms = ms_between(t_sent, now);
    each_ms.push_back(ms);
    last_ms = std::max(last_ms, ms);
    ++got;
  }
};

boost::json::object summary(const char* prefix, const std::vector<double>& last, const std::vector<double>& each,
                            boost::json::object into) {
  const std::string p = prefix;
  into[p + "_last_p50_ms"] = round3(percentile(last, 50));
  into[p + "_last_p99_ms"] = round3(percentile(last, 99));
  into[p + "_last_max_ms"] = round3(percentile(last, 100));
  into[p + "_each_p50_ms"] = round3(percentile(each, 50));
  into[p + "_each_p99_ms"] = round3(percentile(each, 99));
  return into;
}

}  // namespace

int run_fanout(context& ctx) {
  const auto& o = ctx.opt;
  const int n = o.n;
  // A few newcomer users take turns, so that a round never races the previous one's departure.
  const int newcomers = std::min(o.rounds, 4);
  auto accounts = set_up(ctx, n + newcomers, n + newcomers);
  if (!accounts) return finish("fanout", "fanout: set-up failed", {}, {"set-up failed"});
  fanout_crowd c(ctx, *accounts);
  std::vector<std::string> failures;
  c.join(0, n, o.window, o.timeout);
  if (c.registered != n || !c.settle(
                               0, n, [&](int) { return n - 1; }, o.timeout)) {
    c.add_failures(failures);
    failures.push_back("the N agents did not all register and learn each other");
    return finish("fanout", "fanout: set-up of the N agents failed", {}, failures);
  }
  ctx.run_for(0.2);
  std::vector<double> online_last, offline_last, online_each, offline_each;
  for (int r = 0; r < o.rounds && failures.empty(); ++r) {
    agent& nc = *c.agents[n + r % newcomers];
    c.newcomer = &nc;
    nc.start();
    if (!ctx.run_until([&] { return nc.st == agent::state::open || nc.st == agent::state::failed; }, 10) ||
        nc.st != agent::state::open) {
      failures.push_back(fmt("round %d: the newcomer could not connect", r));
      break;
    }
    c.got = 0;
    c.last_ms = 0;
    c.each_ms.clear();
    c.watching_online = true;
    nc.send_register();
    c.t_sent = nc.t_register;
    if (!ctx.run_until([&] { return c.got >= n && nc.registered; }, 10)) {
      failures.push_back(fmt("round %d: peer_online reached %d of %d", r, c.got, n));
      break;
    }
    c.watching_online = false;
    online_last.push_back(c.last_ms);
    online_each.insert(online_each.end(), c.each_ms.begin(), c.each_ms.end());

    c.got = 0;
    c.last_ms = 0;
    c.each_ms.clear();
    c.watching_offline = true;
    c.t_sent = clock_type::now();
    nc.leave();
    if (!ctx.run_until([&] { return c.got >= n && nc.st != agent::state::closing; }, 10)) {
      failures.push_back(fmt("round %d: peer_offline reached %d of %d", r, c.got, n));
      break;
    }
    c.watching_offline = false;
    offline_last.push_back(c.last_ms);
    offline_each.insert(offline_each.end(), c.each_ms.begin(), c.each_ms.end());
    ctx.run_for(0.005);
  }
  c.add_failures(failures);
  boost::json::object r{{"n", n}, {"rounds", static_cast<int>(online_last.size())}, {"errors", c.errors}};
  r = summary("online", online_last, online_each, std::move(r));
  r = summary("offline", offline_last, offline_each, std::move(r));
  std::string human =
      fmt("fanout: %d receivers, %zu rounds: last peer_online p50 %.2f / p99 %.2f / max %.2f ms; "
          "last peer_offline p50 %.2f / p99 %.2f ms",
          n, online_last.size(), percentile(online_last, 50), percentile(online_last, 99), percentile(online_last, 100),
          percentile(offline_last, 50), percentile(offline_last, 99));
  c.newcomer = nullptr;
  c.leave_all();
  return finish("fanout", human, std::move(r), failures);
}

}  // namespace loadgen
