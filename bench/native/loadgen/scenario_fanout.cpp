// fanout: N agents of one organization stay connected; R times a newcomer registers, and later
// leaves. Measured per round: from the newcomer's `register` frame to the `peer_online` about it
// at each of the N, and from its close frame to the `peer_offline` at each; the round's figure
// is the last receiver's. The generator reads the N frames one after another, so the last
// receiver's time includes that reading: compare against sig-ceiling, which has the same cost.
// With --ports the receivers are spread over the processes and the newcomer always connects to
// the first: the receivers on the others measure the cross-process path (publisher, NOTIFY,
// listener), reported apart from those on the newcomer's own process.
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
  // The same split by the receiver's process: the newcomer's own, or another (with --ports).
  double same_last_ms = 0, cross_last_ms = 0;
  std::vector<double> same_each_ms, cross_each_ms;

  void reset_round() {
    got = 0;
    last_ms = same_last_ms = cross_last_ms = 0;
    each_ms.clear();
    same_each_ms.clear();
    cross_each_ms.clear();
  }

  void on_open(agent& a, clock_type::time_point now) override {
    if (&a == newcomer) {
      // The newcomer registers once the round's watchers are armed (run_fanout).
      return;
    }
    crowd::on_open(a, now);
  }
  void on_peer_online(agent& a, std::string_view msg, clock_type::time_point now) override {
    if (!watching_online) return;
    if (jscan::str(jscan::field(jscan::field(msg, "peer"), "agent_id")) != newcomer->agent_id) return;
    record(a, now);
  }
  void on_peer_offline(agent& a, std::string_view msg, clock_type::time_point now) override {
    if (!watching_offline) return;
    if (jscan::str(jscan::field(msg, "virtual_ip")) != newcomer->virtual_ip) return;
    record(a, now);
  }

 private:
  void record(const agent& a, clock_type::time_point now) {
    const double ms = ms_between(t_sent, now);
    each_ms.push_back(ms);
    last_ms = std::max(last_ms, ms);
    ++got;
    if (!ctx.spread()) return;
    if (a.process == newcomer->process) {
      same_each_ms.push_back(ms);
      same_last_ms = std::max(same_last_ms, ms);
    } else {
      cross_each_ms.push_back(ms);
      cross_last_ms = std::max(cross_last_ms, ms);
    }
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
  for (int k = 0; k < newcomers; ++k) c.agents[n + k]->process = 0;  // the newcomer: always the first process
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
  // With --ports: the same by the receiver's process (the newcomer's own, or another).
  struct split {
    std::vector<double> same_last, cross_last, same_each, cross_each;
    void add(const fanout_crowd& c) {
      if (!c.same_each_ms.empty()) same_last.push_back(c.same_last_ms);
      if (!c.cross_each_ms.empty()) cross_last.push_back(c.cross_last_ms);
      same_each.insert(same_each.end(), c.same_each_ms.begin(), c.same_each_ms.end());
      cross_each.insert(cross_each.end(), c.cross_each_ms.begin(), c.cross_each_ms.end());
    }
  } online_split, offline_split;
  std::vector<int> newcomer_turns(static_cast<std::size_t>(newcomers));  // rounds each newcomer completed
  for (int r = 0; r < o.rounds && failures.empty(); ++r) {
    agent& nc = *c.agents[n + r % newcomers];
    c.newcomer = &nc;
    nc.start();
    if (!ctx.run_until([&] { return nc.st == agent::state::open || nc.st == agent::state::failed; }, 10) ||
        nc.st != agent::state::open) {
      failures.push_back(fmt("round %d: the newcomer could not connect", r));
      break;
    }
    c.reset_round();
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
    online_split.add(c);
    if (ctx.spread()) {
      // The newcomer's existing_peers: exactly the N receivers, wherever they are.
      std::vector<std::string> wrong;
      c.check_peers(
          n + r % newcomers, n + r % newcomers + 1,
          [&](int, std::vector<int>& out) {
            for (int k = 0; k < n; ++k) out.push_back(k);
          },
          0, wrong);
      for (auto& w : wrong) failures.push_back(fmt("round %d, the newcomer's ", r) + w);
      if (!failures.empty()) break;
    }

    c.reset_round();
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
    offline_split.add(c);
    ++newcomer_turns[static_cast<std::size_t>(r % newcomers)];
    ctx.run_for(0.005);
  }
  boost::json::object checked;
  if (ctx.spread() && failures.empty()) {
    // Each receiver heard of every other receiver once, of each newcomer once per round it came,
    // and of as many departures as there were rounds: nothing missed or repeated on any process.
    ctx.run_for(0.2);  // late repeats show up now
    checked = c.check_peers(
        0, n,
        [&](int i, std::vector<int>& out) {
          for (int k = 0; k < n; ++k)
            if (k != i) out.push_back(k);
          for (int k = 0; k < newcomers; ++k) out.insert(out.end(), newcomer_turns[static_cast<std::size_t>(k)], n + k);
        },
        static_cast<int>(offline_last.size()), failures);
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
  if (ctx.spread()) {
    r["processes"] = ctx.processes.size();
    r["registered_per_process"] = c.registered_per_process(0, n);
    r["newcomer_process"] = 0;
    r = summary("online_same", online_split.same_last, online_split.same_each, std::move(r));
    r = summary("offline_same", offline_split.same_last, offline_split.same_each, std::move(r));
    if (ctx.processes.size() > 1) {
      r = summary("online_cross", online_split.cross_last, online_split.cross_each, std::move(r));
      r = summary("offline_cross", offline_split.cross_last, offline_split.cross_each, std::move(r));
      human +=
          fmt("; newcomer on process 0 of %zu: last peer_online p50 %.2f ms on its own process, %.2f ms on the others",
              ctx.processes.size(), percentile(online_split.same_last, 50), percentile(online_split.cross_last, 50));
    }
    if (!checked.empty()) r["peer_check"] = std::move(checked);
  }
  c.newcomer = nullptr;
  c.leave_all();
  return finish("fanout", human, std::move(r), failures);
}

}  // namespace loadgen
