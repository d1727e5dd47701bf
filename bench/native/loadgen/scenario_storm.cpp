// storm: N agents of one organization connect and register all at once. Measured: from the
// first connect until every agent knows all N-1 others (its existing_peers plus the peer_online
// it received); delivered messages (register_agent_response + peer_online frames, N + N(N-1)/2
// when nothing is lost or repeated) per second over that time.
// With several processes (--ports) that count is no invariant: in one process, of each pair one
// registers first and the other finds it in its existing_peers, but of two agents registering at
// once on different processes, each may join its process's hub before or after that process has
// applied the other's registration: both then hear of the other by peer_online, or both find it
// in existing_peers (more or fewer frames). There the check is each agent's peers by identity:
// every other agent exactly once.
#include <cmath>

#include "crowd.hpp"
#include "report.hpp"
#include "scenarios.hpp"

namespace loadgen {

namespace {

class storm_crowd final : public crowd {
 public:
  using crowd::crowd;
  int want = 0;  // peers each agent must know
  int complete = 0;
  int opened = 0;
  clock_type::time_point t_complete{}, t_opened{};

  void on_open(agent& a, clock_type::time_point now) override {
    if (++opened == static_cast<int>(agents.size())) t_opened = now;
    crowd::on_open(a, now);
  }
  void on_registered(agent& a, clock_type::time_point now) override {
    crowd::on_registered(a, now);
    check(a, now);
  }
  void on_peer_online(agent& a, std::string_view, clock_type::time_point now) override { check(a, now); }

 private:
  void check(agent& a, clock_type::time_point now) {
    if (a.registered && a.known == want) {
      ++complete;
      t_complete = now;
    }
  }
};

}  // namespace

int run_storm(context& ctx) {
  const auto& o = ctx.opt;
  const int n = o.n;
  auto accounts = set_up(ctx, n, n);
  if (!accounts) return finish("storm", "storm: set-up failed", {}, {"set-up failed"});
  storm_crowd c(ctx, *accounts);
  c.want = n - 1;
  ctx.run_for(0.2);
  const auto t0 = clock_type::now();
  c.join(0, n, n, o.timeout);  // the window is N: everybody at once
  const bool done = ctx.run_until([&] { return c.complete >= n; }, o.timeout);
  const double elapsed = ms_between(t0, c.t_complete) / 1000;
  ctx.run_for(0.2);  // anything beyond the expected frames (repeats) shows up now
  const std::int64_t frames = c.total_frames();
  const std::int64_t expected = n + static_cast<std::int64_t>(n) * (n - 1) / 2;
  std::vector<std::string> failures;
  c.add_failures(failures);
  if (!done) failures.push_back(fmt("only %d of %d agents learnt all others", c.complete, n));
  if (frames != expected && ctx.processes.size() == 1)
    failures.push_back(
        fmt("%lld frames, expected %lld", static_cast<long long>(frames), static_cast<long long>(expected)));
  const double rate = frames / elapsed;
  boost::json::object r{{"n", n},
                        {"complete", done},
                        {"elapsed_s", round3(elapsed)},
                        {"all_upgraded_s", round3(ms_between(t0, c.t_opened) / 1000)},
                        {"all_registered_s", round3(ms_between(t0, c.last_registered) / 1000)},
                        {"frames", frames},
                        {"frames_expected", expected},
                        {"msgs_per_s", std::llround(rate)},
                        {"errors", c.errors}};
  std::string human = fmt("storm: %d peers of one org: everybody knows everybody after %.3f s, %lld msgs = %.0f msgs/s",
                          n, elapsed, static_cast<long long>(frames), rate);
  if (ctx.spread()) {
    auto everybody_else = [&](int i, std::vector<int>& out) {
      for (int k = 0; k < n; ++k)
        if (k != i) out.push_back(k);
    };
    r["processes"] = ctx.processes.size();
    r["registered_per_process"] = c.registered_per_process(0, n);
    r["peer_check"] = c.check_peers(0, n, everybody_else, 0, failures);
    r["frames_beyond_one_process_count"] = frames - expected;  // see the top of this file
    human += fmt(" (over %zu process(es))", ctx.processes.size());
  }
  c.leave_all();
  return finish("storm", human, std::move(r), failures);
}

}  // namespace loadgen
