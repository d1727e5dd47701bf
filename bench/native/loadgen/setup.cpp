#include "setup.hpp"

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>

#include "../common/json_scan.hpp"
#include "http_client.hpp"

namespace loadgen {

namespace {

constexpr std::string_view password = "password123";

std::string email(int i) { return "u" + std::to_string(i) + "@bench.example.com"; }

// Small organizations get a /24 each (10.0.0.0 ... 10.127.255.0), large ones a /16 each
// (10.128.0.0 ...): distinct subnets, see set_up().
std::string subnet(int k, int org_size) {
  if (org_size <= 250) return "10." + std::to_string(k / 256) + "." + std::to_string(k % 256) + ".0/24";
  return "10." + std::to_string(128 + k) + ".0.0/16";
}

class runner {
 public:
  runner(context& ctx) : ctx_(ctx), pool_(ctx.io, ctx.server, ctx.opt.setup_connections) {}

  // `handled(status, body)` returns false for an answer that deserves another try (up to
  // `tries`); answers 0, 429 and 503 are always tried again after a pause.
  void call(std::string request, std::function<bool(int, std::string_view)> handled, int tries = 1) {
    pool_.submit(request, handler(request, std::move(handled), tries, 0));
  }

  bool drain(const char* phase) {
    if (!pool_.drain(ctx_.opt.timeout)) {
      std::fprintf(stderr, "setup: %s timed out\n", phase);
      return false;
    }
    return !failed_;
  }

 private:
  using handled_fn = std::function<bool(int, std::string_view)>;

  http_conn::callback handler(std::string request, handled_fn handled, int tries, int attempt) {
    return [this, request, handled, tries, attempt](int status, std::string_view body, clock_type::time_point) {
      const bool transient = status == 0 || status == 429 || status == 503;
      if (!transient && handled(status, body)) return;
      if (attempt + 1 < (transient ? 50 : tries)) {
        pool_.submit_after(10 * (attempt + 1), request, handler(request, handled, tries, attempt + 1));
        return;
      }
      fail(request, status, body);
    };
  }

  void fail(const std::string& request, int status, std::string_view body) {
    if (!failed_) {
      std::fprintf(stderr, "setup: %.*s -> %d %.*s\n", static_cast<int>(request.find('\r')), request.data(), status,
                   static_cast<int>(std::min<std::size_t>(body.size(), 300)), body.data());
    }
    failed_ = true;
  }

  context& ctx_;
  http_pool pool_;
  bool failed_ = false;
};

}  // namespace

std::optional<std::vector<account>> set_up(context& ctx, int n, int org_size) {
  const auto t0 = clock_type::now();
  std::vector<account> users(n);
  runner run(ctx);

  if (!ctx.opt.tokens_file.empty()) {
    std::ifstream in(ctx.opt.tokens_file);
    for (int i = 0; i < n; ++i) {
      if (!std::getline(in, users[i].token) || users[i].token.empty()) {
        std::fprintf(stderr, "setup: %s has fewer than %d tokens\n", ctx.opt.tokens_file.c_str(), n);
        return std::nullopt;
      }
    }
  } else {
    for (int i = 0; i < n; ++i) {
      const std::string credentials =
          R"({"email":")" + email(i) + R"(","password":")" + std::string(password) + R"("})";
      run.call(http_request("POST", "/register", "", credentials), [&, i, credentials](int status, std::string_view) {
        if (status != 200 && status != 409) return false;
        run.call(http_request("POST", "/login", "", credentials), [&, i](int status, std::string_view body) {
          users[i].token = jscan::str(jscan::field(body, "access_token"));
          return status == 200 && !users[i].token.empty();
        });
        return true;
      });
    }
    if (!run.drain("register/login")) return std::nullopt;
  }

  const int orgs = (n + org_size - 1) / org_size;
  if (org_size > 250 ? orgs > 127 : orgs > 32768) {
    std::fprintf(stderr, "setup: too many organizations for distinct subnets\n");
    return std::nullopt;
  }
  for (int k = 0; k < orgs; ++k) {
    const std::string body = R"({"name":"bench-)" + std::to_string(k) + R"(","subnet":")" + subnet(k, org_size) + "\"}";
    run.call(http_request("POST", "/organizations", users[k * org_size].token, body),
             [&, k](int status, std::string_view body) {
               auto id = jscan::integer(jscan::field(body, "id"));
               if (status != 200 || !id) return false;
               for (int i = k * org_size; i < std::min(n, (k + 1) * org_size); ++i) users[i].org = *id;
               return true;
             });
  }
  if (!run.drain("organizations")) return std::nullopt;

  for (int i = 0; i < n; ++i) {
    const std::string org = std::to_string(users[i].org);
    auto allocate = [&, i, org] {
      // The baseline loses allocation races under concurrency (400 "No available IP addresses"),
      // as bench/lib/common.py notes: a few more tries.
      run.call(
          http_request("POST", "/organizations/" + org + "/allocate_ip", users[i].token, "{}"),
          [](int status, std::string_view) { return status == 200; }, 8);
    };
    if (i % org_size == 0) {
      allocate();
    } else {
      run.call(http_request("POST", "/organizations/" + org + "/join", users[i].token, "{}"),
               [allocate](int status, std::string_view) {
                 if (status != 200 && status != 409) return false;
                 allocate();
                 return true;
               });
    }
  }
  if (!run.drain("join/allocate")) return std::nullopt;
  std::fprintf(stderr, "setup: %d users, %d organizations in %.1f s\n", n, orgs,
               std::chrono::duration<double>(clock_type::now() - t0).count());
  return users;
}

}  // namespace loadgen
