// memory: idle registered agents (organizations of K) added in steps; after each step the
// server's VmRSS and the machine's TCP socket figures. Bytes per agent = RSS growth since the
// set-up ended (users, organizations and allocations exist, no WebSocket yet) / agents.
#include <algorithm>
#include <boost/json/array.hpp>
#include <cstdio>

#include "crowd.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "sysinfo.hpp"

namespace loadgen {

int run_memory(context& ctx) {
  const auto& o = ctx.opt;
  std::vector<int> steps = o.steps;
  if (steps.empty()) {
    for (int s = 1000; s < o.n; s += s < 5000 ? 1000 : 5000) steps.push_back(s);
    steps.push_back(o.n);
  }
  std::sort(steps.begin(), steps.end());
  const int n = steps.back();
  std::vector<std::string> failures;
  if (o.server_pids.empty()) failures.push_back("--server-pid is required to read the server's memory");
  // Several processes (a cluster): their VmRSS summed; -1 when one cannot be read.
  auto rss_each = [&] {
    boost::json::array each;
    for (int pid : o.server_pids) each.push_back(rss_kib(pid));
    return each;
  };
  auto rss_sum = [&](const boost::json::array& each) {
    std::int64_t sum = 0;
    for (const auto& v : each) {
      if (v.as_int64() < 0) return std::int64_t{-1};
      sum += v.as_int64();
    }
    return each.empty() ? std::int64_t{-1} : sum;
  };
  auto accounts = set_up(ctx, n, o.org_size);
  if (!accounts) return finish("memory", "memory: set-up failed", {}, {"set-up failed"});
  crowd c(ctx, *accounts);
  ctx.run_for(0.5);  // the set-up's last responses and connection closes
  const boost::json::array rss0_each = rss_each();
  const std::int64_t rss0 = rss_sum(rss0_each);
  const sockstat s0 = read_sockstat();
  boost::json::array rows;
  int done = 0;
  double per_agent = 0;
  std::string human = "memory:";
  for (int step : steps) {
    c.join(done, step, o.window, o.timeout);
    done = step;
    ctx.run_for(1.0);  // let the peer_online traffic drain and the allocator settle
    boost::json::array each = rss_each();
    const std::int64_t rss = rss_sum(each);
    const sockstat s = read_sockstat();
    per_agent = rss >= 0 && rss0 >= 0 ? static_cast<double>(rss - rss0) * 1024 / step : -1;
    rows.push_back(boost::json::object{{"agents", step},
                                       {"registered", c.registered},
                                       {"rss_kib", rss},
                                       {"bytes_per_agent", std::llround(per_agent)},
                                       {"tcp_inuse", s.tcp_inuse},
                                       {"tcp_mem_pages", s.tcp_mem_pages}});
    if (o.server_pids.size() > 1) rows.back().as_object()["rss_kib_each"] = std::move(each);
    human += fmt(" %d:%.0fB", step, per_agent);
    std::fprintf(stderr, "memory: %d agents, VmRSS %lld KiB, %.0f B/agent, TCP inuse %lld, mem %lld pages\n", step,
                 static_cast<long long>(rss), per_agent, static_cast<long long>(s.tcp_inuse),
                 static_cast<long long>(s.tcp_mem_pages));
    if (c.registered + c.failed < step) break;
  }
  c.add_failures(failures);
  if (c.registered != n) failures.push_back(fmt("%d of %d registered", c.registered, n));
  auto org_peers = [&](int i) { return std::min(o.org_size, n - i / o.org_size * o.org_size) - 1; };
  if (!c.settle(0, n, org_peers, 10)) failures.push_back("not every agent learnt all members of its organization");
  boost::json::object checked;
  if (ctx.spread()) {
    ctx.run_for(0.2);  // repeats, if any, show up now
    auto mates = [&](int i, std::vector<int>& out) {
      const int first = i / o.org_size * o.org_size;
      for (int k = first; k < std::min(n, first + o.org_size); ++k)
        if (k != i) out.push_back(k);
    };
    checked = c.check_peers(0, n, mates, 0, failures);
  }
  boost::json::object r{{"n", n},
                        {"org_size", o.org_size},
                        {"rss_before_kib", rss0},
                        {"tcp_inuse_before", s0.tcp_inuse},
                        {"tcp_mem_pages_before", s0.tcp_mem_pages},
                        {"steps", std::move(rows)},
                        {"bytes_per_agent", std::llround(per_agent)},
                        {"errors", c.errors}};
  if (o.server_pids.size() > 1) {
    r["rss_before_kib_each"] = rss0_each;
    r["server_pids"] = boost::json::array(o.server_pids.begin(), o.server_pids.end());
  }
  if (ctx.spread()) {
    r["processes"] = ctx.processes.size();
    r["registered_per_process"] = c.registered_per_process(0, n);
    r["peer_check"] = std::move(checked);
  }
  human += fmt("  (VmRSS growth per idle registered agent; %d agents: %.0f B)", n, per_agent);
  if (o.server_pids.size() > 1) human += fmt(" summed over %zu processes", o.server_pids.size());
  c.leave_all(10);
  return finish("memory", human, std::move(r), failures);
}

}  // namespace loadgen
