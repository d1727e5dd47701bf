#include "crowd.hpp"

#include <cstdio>

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
