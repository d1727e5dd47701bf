// relay: P pairs (each pair an organization of two); the first agent of a pair sends `signal` to
// the second at a steady rate, the second sends the data straight back. Measured over the
// window after a warm-up: signals delivered per second (both directions) and the round trip.
// The rate is per sending connection and stays under the server's per-connection limit
// (WS_RATE_LIMIT_PER_SECOND, 50/s by default, burst 100): raise it only against a server
// configured for more; "Rate limit exceeded" answers are counted.
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <functional>

#include "../common/json_scan.hpp"
#include "crowd.hpp"
#include "report.hpp"
#include "scenarios.hpp"

namespace loadgen {

namespace {

class relay_crowd final : public crowd {
 public:
  using crowd::crowd;
  clock_type::time_point base{};                  // send times travel as ns since base
  std::int64_t window_from = 0, window_to = 0;    // ns since base
  std::int64_t delivered = 0;                     // in the window, both directions
  std::int64_t echoes = 0;                        // round trips completed whose send time is in the window
  std::int64_t bad = 0;                           // signals without the data sent
  std::int64_t sent_total = 0, echoes_total = 0;  // all round trips, warm-up included
  std::vector<double> rtt_ms;
  std::string out;

  std::int64_t since_base(clock_type::time_point t) const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - base).count();
  }

  void send_signal(agent& from, const agent& to, std::int64_t seq) {
    out.assign(R"({"type":"signal","to":")")
        .append(to.virtual_ip)
        .append(R"(","data":{"s":)")
        .append(std::to_string(seq))
        .append(R"(,"t":)")
        .append(std::to_string(since_base(clock_type::now())))
        .append("}}");
    from.send_text(out);
    ++sent_total;
  }

  void on_signal(agent& a, std::string_view msg, clock_type::time_point now) override {
    const std::int64_t t_now = since_base(now);
    if (t_now >= window_from && t_now < window_to) ++delivered;
    const std::string_view data = jscan::field(msg, "data");
    const auto t_sent = jscan::integer(jscan::field(data, "t"));
    if (!t_sent) {
      ++bad;
      return;
    }
    if (a.index % 2 == 1) {  // the answering side: send the data back
      out.assign(R"({"type":"signal","to":")").append(agents[a.index - 1]->virtual_ip).append(R"(","data":)");
      out.append(data).append("}");
      a.send_text(out);
      return;
    }
    ++echoes_total;
    if (*t_sent >= window_from && *t_sent < window_to) {
      ++echoes;
      rtt_ms.push_back(static_cast<double>(t_now - *t_sent) / 1e6);
    }
  }
};

}  // namespace

int run_relay(context& ctx) {
  const auto& o = ctx.opt;
  const int pairs = o.pairs;
  auto accounts = set_up(ctx, 2 * pairs, 2);
  if (!accounts) return finish("relay", "relay: set-up failed", {}, {"set-up failed"});
  relay_crowd c(ctx, *accounts);
  std::vector<std::string> failures;
  c.join(0, 2 * pairs, o.window, o.timeout);
  if (c.registered != 2 * pairs || !c.settle(
                                       0, 2 * pairs, [](int) { return 1; }, o.timeout)) {
    c.add_failures(failures);
    failures.push_back("the pairs did not all register and see each other");
    return finish("relay", "relay: set-up of the pairs failed", {}, failures);
  }
  // Pairs are spread over `buckets` phases of the sending period, so the load is even in time.
  const int buckets = std::min(pairs, 20);
  const auto tick =
      std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(1 / o.rate / buckets));
  c.base = clock_type::now();
  const auto measure_from =
      c.base + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.warmup));
  const auto measure_to =
      measure_from + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration));
  c.window_from = c.since_base(measure_from);
  c.window_to = c.since_base(measure_to);
  std::int64_t sent_in_window = 0, seq = 0, ticks = 0;
  asio::steady_timer timer(ctx.io);
  auto next = c.base;
  bool sending = true;
  std::function<void()> fire = [&] {
    const auto now = clock_type::now();
    if (now >= measure_to) {
      sending = false;
      return;
    }
    // Catch up on missed ticks, but never by more than one period (the server's burst allowance).
    for (int k = 0; k < buckets && next <= now; ++k, ++ticks, next += tick) {
      const int bucket = static_cast<int>(ticks % buckets);
      for (int p = bucket; p < pairs; p += buckets) {
        c.send_signal(*c.agents[2 * p], *c.agents[2 * p + 1], ++seq);
        if (now >= measure_from) ++sent_in_window;
      }
    }
    if (next <= now) next = now + tick;
    timer.expires_at(next);
    timer.async_wait([&](const error_code& ec) {
      if (!ec) fire();
    });
  };
  fire();
  ctx.run_until([&] { return !sending; }, o.warmup + o.duration + 10);
  // Every round trip must come back, however late (a server that falls behind shows it in the
  // round-trip times); only those that never do are lost.
  ctx.run_until([&] { return c.echoes_total >= c.sent_total; }, 10);
  c.add_failures(failures);
  if (c.bad) failures.push_back(fmt("%lld signals without the data sent", static_cast<long long>(c.bad)));
  const std::int64_t lost = c.sent_total - c.echoes_total;
  if (lost > 0)
    failures.push_back(fmt("%lld of %lld round trips never came back", static_cast<long long>(lost),
                           static_cast<long long>(c.sent_total)));
  if (c.rate_limited) failures.push_back(fmt("%lld \"Rate limit exceeded\"", static_cast<long long>(c.rate_limited)));
  const double per_s = c.delivered / o.duration;
  boost::json::object r{{"pairs", pairs},
                        {"rate_per_sender", o.rate},
                        {"duration_s", o.duration},
                        {"sent", sent_in_window},
                        {"delivered", c.delivered},
                        {"delivered_per_s", std::llround(per_s)},
                        {"lost", lost},
                        {"rate_limited", c.rate_limited},
                        {"rtt_p50_ms", round3(percentile(c.rtt_ms, 50))},
                        {"rtt_p99_ms", round3(percentile(c.rtt_ms, 99))},
                        {"rtt_max_ms", round3(percentile(c.rtt_ms, 100))},
                        {"errors", c.errors}};
  std::string human =
      fmt("relay: %d pairs at %.0f/s each way for %.1f s: %.0f signals/s delivered, RTT p50 %.3f / p99 "
          "%.3f ms, %lld lost",
          pairs, o.rate, o.duration, per_s, percentile(c.rtt_ms, 50), percentile(c.rtt_ms, 99),
          static_cast<long long>(lost));
  c.leave_all();
  return finish("relay", human, std::move(r), failures);
}

}  // namespace loadgen
