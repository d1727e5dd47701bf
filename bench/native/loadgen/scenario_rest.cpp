// rest: C keep-alive connections, each with the token of its own user (who owns one
// organization), send GET /organizations back to back, one request in flight per connection
// (as wrk does). Measured after a warm-up: responses per second and latency.
#include <cmath>
#include <functional>

#include "../common/json_scan.hpp"
#include "http_client.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "setup.hpp"

namespace loadgen {

int run_rest(context& ctx) {
  const auto& o = ctx.opt;
  const int conns = o.connections;
  auto accounts = set_up(ctx, conns, 1);
  if (!accounts) return finish("rest", "rest: set-up failed", {}, {"set-up failed"});
  std::vector<std::string> requests;
  std::vector<std::unique_ptr<http_conn>> pool;
  for (int i = 0; i < conns; ++i) {
    requests.push_back(http_request("GET", "/organizations", (*accounts)[i].token, ""));
    pool.push_back(std::make_unique<http_conn>(ctx.io, ctx.server, ctx.source_for(static_cast<std::size_t>(i))));
  }
  const auto t0 = clock_type::now();
  const auto measure_from =
      t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.warmup));
  const auto measure_to =
      measure_from + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration));
  std::vector<double> latency_ms;
  latency_ms.reserve(1 << 20);
  std::int64_t ok = 0, errors = 0, wrong = 0;
  int running = conns;
  std::string first_error;
  std::vector<clock_type::time_point> sent(conns);
  std::function<void(int)> issue = [&](int i) {
    sent[i] = clock_type::now();
    pool[i]->request(requests[i], [&, i](int status, std::string_view body, clock_type::time_point now) {
      if (sent[i] >= measure_from && now < measure_to) {
        if (status == 200) {
          ++ok;
          latency_ms.push_back(ms_between(sent[i], now));
          // The user owns exactly one organization: anything else is a wrong answer.
          if (jscan::count(body) != 1) ++wrong;
        } else {
          ++errors;
          if (first_error.empty())
            first_error = fmt("status %d: %.*s", status, static_cast<int>(body.size()), body.data());
        }
      }
      if (now < measure_to) {
        issue(i);
      } else {
        --running;
      }
    });
  };
  for (int i = 0; i < conns; ++i) issue(i);
  ctx.run_until([&] { return running == 0; }, o.warmup + o.duration + 30);
  for (auto& c : pool) c->close();
  ctx.io.restart();
  ctx.io.poll();
  std::vector<std::string> failures;
  if (errors) failures.push_back(fmt("%lld errors, first %s", static_cast<long long>(errors), first_error.c_str()));
  if (wrong) failures.push_back(fmt("%lld answers without the user's one organization", static_cast<long long>(wrong)));
  if (ok == 0) failures.push_back("no successful request");
  const double per_s = ok / o.duration;
  boost::json::object r{{"connections", conns},
                        {"duration_s", o.duration},
                        {"requests", ok},
                        {"per_s", std::llround(per_s)},
                        {"p50_ms", round3(percentile(latency_ms, 50))},
                        {"p99_ms", round3(percentile(latency_ms, 99))},
                        {"errors", errors}};
  std::string human =
      fmt("rest: GET /organizations, %d keep-alive connections, %.1f s: %.0f req/s, p50 %.3f / p99 %.3f ms", conns,
          o.duration, per_s, percentile(latency_ms, 50), percentile(latency_ms, 99));
  return finish("rest", human, std::move(r), failures);
}

}  // namespace loadgen
