#include "crowd.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cstdio>

#include "report.hpp"

namespace loadgen {

crowd::crowd(context& ctx, const std::vector<account>& accounts) : ctx(ctx) {
  agents.reserve(accounts.size());
  for (std::size_t i = 0; i < accounts.size(); ++i)
    agents.push_back(std::make_unique<agent>(ctx, static_cast<int>(i), accounts[i].token, accounts[i].org, *this));
}

bool crowd::join(int from, int to, int window, double timeout_s) {
  next_ = from;
  end_ = to;
  const int target = registered + failed + (to - from);
  while (in_progress_ < window && next_ < end_) start_next();
  return ctx.run_until([&] { return registered + failed >= target; }, timeout_s);
}

void crowd::start_next() {
  ++in_progress_;
  agents[next_++]->start();
}

void crowd::on_open(agent& a, clock_type::time_point) {
  if (register_on_open) a.send_register();
}

void crowd::on_registered(agent&, clock_type::time_point now) {
  ++registered;
  last_registered = now;
  if (in_progress_ > 0) --in_progress_;
  if (next_ < end_) start_next();
}

void crowd::on_error(agent& a, std::string_view msg) {
  if (msg.find("Rate limit exceeded") != std::string_view::npos) {
    ++rate_limited;
    return;
  }
  ++errors;
  if (samples_.size() < 5) {
    samples_.push_back("agent " + std::to_string(a.index) + ": " + std::string(msg.substr(0, 200)));
    std::fprintf(stderr, "%s\n", samples_.back().c_str());
  }
}

void crowd::on_peer_update(agent& a, std::string_view msg) {
  if (!peer_updates++)
    peer_update_sample = fmt("a%d (process %d) got ", a.index, a.process) + std::string(msg.substr(0, 400));
}

void crowd::on_closed(agent& a) {
  if (a.close_code && !a.left) ++server_closes[a.close_code];
  if (a.st != agent::state::failed || a.registered) return;
  ++failed;
  if (in_progress_ > 0) --in_progress_;
  if (next_ < end_) start_next();
}

void crowd::leave_all(double timeout_s) {
  int open = 0;
  for (auto& a : agents) {
    if (a->st == agent::state::open) {
      a->leave();
      ++open;
    }
  }
  ctx.run_until(
      [&] {
        for (auto& a : agents)
          if (a->st == agent::state::closing) return false;
        return true;
      },
      timeout_s);
  for (auto& a : agents) a->close();
  // Let the aborted waits of the closed sockets finish while the agents still exist.
  ctx.io.restart();
  ctx.io.poll();
}

boost::json::object crowd::check_peers(int from, int to, const std::function<void(int, std::vector<int>&)>& expected,
                                       int offline_expected, std::vector<std::string>& failures) const {
  std::int64_t missing = 0, missing_cross = 0, repeated = 0, repeated_cross = 0, unexpected = 0;
  int agents_wrong = 0, offline_wrong = 0;
  std::vector<std::string> samples;
  std::vector<int> want, got;
  const int total = static_cast<int>(agents.size());
  auto where = [&](int k) {
    return k >= 0 && k < total ? fmt("a%d (process %d)", k, agents[k]->process) : fmt("agent_id #%d", k);
  };
  for (int i = from; i < to; ++i) {
    const agent& a = *agents[i];
    want.clear();
    expected(i, want);
    std::sort(want.begin(), want.end());
    got = a.heard;
    std::sort(got.begin(), got.end());
    bool wrong = false;
    // Both sorted: walk them together, peer by peer.
    std::size_t w = 0, g = 0;
    while (w < want.size() || g < got.size()) {
      const int k = w < want.size() && (g >= got.size() || want[w] <= got[g]) ? want[w] : got[g];
      std::size_t nw = 0, ng = 0;
      while (w < want.size() && want[w] == k) ++w, ++nw;
      while (g < got.size() && got[g] == k) ++g, ++ng;
      if (nw == ng) continue;
      wrong = true;
      const bool cross = k >= 0 && k < total && agents[k]->process != a.process;
      std::string what;
      if (nw == 0) {
        ++unexpected;
        what = fmt("heard of %s, not expected (%zu times)", where(k).c_str(), ng);
      } else if (ng < nw) {
        missing += static_cast<std::int64_t>(nw - ng);
        if (cross) missing_cross += static_cast<std::int64_t>(nw - ng);
        what = fmt("heard of %s %zu times, expected %zu", where(k).c_str(), ng, nw);
      } else {
        repeated += static_cast<std::int64_t>(ng - nw);
        if (cross) repeated_cross += static_cast<std::int64_t>(ng - nw);
        what = fmt("heard of %s %zu times, expected %zu", where(k).c_str(), ng, nw);
      }
      if (samples.size() < 5) samples.push_back(where(i) + " " + what);
    }
    if (a.offline_heard != offline_expected) {
      ++offline_wrong;
      if (samples.size() < 5)
        samples.push_back(where(i) + fmt(" heard %d peer_offline, expected %d", a.offline_heard, offline_expected));
    }
    agents_wrong += wrong;
  }
  if (peer_updates) {
    failures.push_back(fmt("%lld peer_update messages, none expected (no agent changed its endpoints); the first: ",
                           static_cast<long long>(peer_updates)) +
                       peer_update_sample);
  }
  if (agents_wrong || offline_wrong) {
    std::string s =
        fmt("peers by identity: %d of %d agents wrong: %lld announcements missing (%lld about a peer on another "
            "process), %lld repeated (%lld), %lld unexpected; %d agents with a wrong number of peer_offline",
            agents_wrong, to - from, static_cast<long long>(missing), static_cast<long long>(missing_cross),
            static_cast<long long>(repeated), static_cast<long long>(repeated_cross),
            static_cast<long long>(unexpected), offline_wrong);
    for (const auto& x : samples) s += "; " + x;
    failures.push_back(s);
  }
  boost::json::object by_type;
  for (const auto& [type, count] : ctx.received_by_type) by_type[type] = count;
  boost::json::object r;
  r["agents_checked"] = to - from;
  r["agents_wrong"] = agents_wrong;
  r["missing"] = missing;
  r["missing_cross_process"] = missing_cross;
  r["repeated"] = repeated;
  r["repeated_cross_process"] = repeated_cross;
  r["unexpected"] = unexpected;
  r["offline_wrong"] = offline_wrong;
  r["peer_updates"] = peer_updates;
  r["received_by_type"] = std::move(by_type);
  return r;
}

boost::json::array crowd::registered_per_process(int from, int to) const {
  std::vector<std::int64_t> counts(ctx.processes.size());
  for (int i = from; i < to; ++i)
    if (agents[i]->registered) ++counts[static_cast<std::size_t>(agents[i]->process)];
  return boost::json::array(counts.begin(), counts.end());
}

std::int64_t crowd::total_frames() const {
  std::int64_t n = 0;
  for (const auto& a : agents) n += a->frames;
  return n;
}

void crowd::add_failures(std::vector<std::string>& failures) const {
  if (failed) failures.push_back(std::to_string(failed) + " agents failed to connect or register");
  for (auto [code, count] : server_closes)
    failures.push_back(std::to_string(count) + " connections closed by the server with code " + std::to_string(code));
  if (errors) {
    std::string s = std::to_string(errors) + " errors";
    for (const auto& x : samples_) s += "; " + x;
    failures.push_back(s);
  }
}

}  // namespace loadgen
