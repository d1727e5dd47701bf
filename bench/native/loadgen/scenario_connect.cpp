// connect: N agents in organizations of K connect to /ws and register, a window at a time.
// Measured: from the first connect to the last register_agent_response; per agent, from its
// connect to its response.
#include <cmath>

#include "crowd.hpp"
#include "report.hpp"
#include "scenarios.hpp"

namespace loadgen {

namespace {

class connect_crowd final : public crowd {
 public:
  using crowd::crowd;
  std::vector<double> latency_ms;

  void on_registered(agent& a, clock_type::time_point now) override {
    latency_ms.push_back(ms_between(a.t_start, now));
    crowd::on_registered(a, now);
  }
};

}  // namespace

int run_connect(context& ctx) {
  const auto& o = ctx.opt;
  auto accounts = set_up(ctx, o.n, o.org_size);
  if (!accounts) return finish("connect", "connect: set-up failed", {}, {"set-up failed"});
  connect_crowd c(ctx, *accounts);
  const auto t0 = clock_type::now();
  c.join(0, o.n, o.window, o.timeout);
  const double elapsed = ms_between(t0, c.last_registered) / 1000;
  std::vector<std::string> failures;
  c.add_failures(failures);
  if (c.registered != o.n) failures.push_back(fmt("%d of %d registered", c.registered, o.n));
  // Every agent must end up knowing the other members of its organization.
  auto org_peers = [&](int i) { return std::min(o.org_size, o.n - i / o.org_size * o.org_size) - 1; };
  const bool settled = c.settle(0, o.n, org_peers, 10);
  // Several processes: members of an organization sit on different ones, and a mate's
  // registration may reach an agent's process after that agent's own response.
  const double all_known = ms_between(t0, clock_type::now()) / 1000;
  if (!settled) failures.push_back("not every agent learnt all members of its organization");
  const double rate = c.registered / elapsed;
  boost::json::object r{{"n", o.n},
                        {"org_size", o.org_size},
                        {"window", o.window},
                        {"elapsed_s", round3(elapsed)},
                        {"per_s", std::llround(rate)},
                        {"latency_p50_ms", round3(percentile(c.latency_ms, 50))},
                        {"latency_p99_ms", round3(percentile(c.latency_ms, 99))},
                        {"errors", c.errors}};
  std::string human = fmt("connect: %d agents (orgs of %d, window %d) in %.3f s = %.0f connects+registers/s", o.n,
                          o.org_size, o.window, elapsed, rate);
  if (ctx.spread()) {
    ctx.run_for(0.2);  // repeats, if any, show up now
    auto mates = [&](int i, std::vector<int>& out) {
      const int first = i / o.org_size * o.org_size;
      for (int k = first; k < std::min(o.n, first + o.org_size); ++k)
        if (k != i) out.push_back(k);
    };
    r["processes"] = ctx.processes.size();
    r["registered_per_process"] = c.registered_per_process(0, o.n);
    r["all_known_s"] = round3(all_known);
    r["peer_check"] = c.check_peers(0, o.n, mates, 0, failures);
    human +=
        fmt(" over %zu process(es); every agent knew its organization after %.3f s", ctx.processes.size(), all_known);
  }
  c.leave_all();
  return finish("connect", human, std::move(r), failures);
}

}  // namespace loadgen
