// Fuzz target for the HTTP request path, in memory: bytes → Beast's request parser with the
// server's header and body limits → http::handle_request (CORS, routing, bearer authentication,
// the worker pools) → the API handlers → the real services on a SQLite store in a temporary
// directory. No socket: each request is parsed from the input and its response checked.
//
// Byte 0 of the input chooses how the rest is read:
//   even: raw HTTP bytes (several pipelined requests are served one after another, as a
//         keep-alive connection would); "$TOKEN" and "$TOKEN2" in them become the bearer tokens
//         of the fixture's owner and member, so that a corpus file outlives the tokens of a run;
//   odd:  a well-formed request of one route (byte 1 picks it from request_templates) with the
//         credentials that bits 1-2 choose (none, the owner's token, the member's, a token with
//         a bad signature), an Origin header when bit 3 is set, the path parameters taken from
//         the first line of the rest when bit 4 is set, and the rest as the body. This reaches
//         every handler with valid framing, where raw bytes rarely get.
//
// Besides the sanitizers' findings, every response is checked: no 500 (an exception escaped a
// handler), a status in 100-599, and a JSON response body is strict JSON.
#include "api/routes.hpp"
#include "api/services.hpp"
#include "auth/jwt.hpp"
#include "auth/password_hasher.hpp"
#include "core/json_parse.hpp"
#include "fuzz_check.hpp"
#include "http/beast.hpp"
#include "http/http_options.hpp"
#include "http/request_handler.hpp"
#include "http/session_context.hpp"
#include "runtime/connection_registry.hpp"
#include "runtime/worker_pool.hpp"
#include "signaling/hub.hpp"
#include "signaling/messages.hpp"
#include "signaling/presence_bus.hpp"
#include "store/open_store.hpp"
#include "telemetry/metrics.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <stdlib.h>  // mkdtemp

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sig::http::request;
using sig::http::response;

// A keep-alive connection serves its requests one by one; more per input would only slow it.
constexpr int max_requests_per_input = 8;

sig::telemetry::metrics make_metrics() {
  std::vector<sig::telemetry::route_label> routes;
  for (const sig::api::route& r : sig::api::rest_routes())
    routes.push_back({std::string(sig::api::to_string(r.method)), std::string(r.pattern)});
  const auto names = [](const auto& list) { return std::vector<std::string>(list.begin(), list.end()); };
  return sig::telemetry::metrics(std::move(routes), names(sig::signaling::inbound_kind_names),
                                 names(sig::signaling::outbound_kind_names));
}

// A directory of its own under TMPDIR for the database, removed at exit (scripts/fuzz.sh points
// TMPDIR into the build tree, so a crashed run leaves nothing elsewhere).
fs::path make_database_directory() {
  std::string pattern = (fs::temp_directory_path() / "sig-fuzz-http-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

// The server as run_server wires it for SQLite, without listener and WebSocket upgrades, and the
// cheapest Argon2id cost libsodium accepts so that /register and /login stay fast.
class server_fixture {
 public:
  server_fixture()
      : directory_(make_database_directory()),
        db_(sig::store::open_store({sig::store::backend::sqlite, (directory_ / "fuzz.db").string()}, 2)),
        hasher_(sig::auth::password_cost{8, 1}),
        tokens_("fuzz-http-signing-key-of-32-bytes-at-least", 24h),
        hub_(bus_),
        metrics_(make_metrics()),
        services_{*db_, hasher_, tokens_, hub_, metrics_},
        database_pool_(1, 64),
        hashing_pool_(1, 64),
        context_{.options = options_,
                 .routes = sig::api::rest_routes(),
                 .services = services_,
                 .database_pool = database_pool_,
                 .hashing_pool = hashing_pool_,
                 .connections = connections_,
                 .metrics = metrics_,
                 .tls = nullptr,
                 .upgrade = {},
                 .upgrade_tls = {},
                 .upgrade_paths = {}} {}

  ~server_fixture() {
    database_pool_.join();
    hashing_pool_.join();
    db_.reset();
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }

  const sig::http::http_options& options() const { return options_; }

  /// Runs handle_request to completion on this thread (the worker pools hand back to it).
  response handle(const request& req) {
    std::optional<response> answer;
    asio::co_spawn(io_, serve(req, answer), [](const std::exception_ptr& failure) {
      if (failure) std::rethrow_exception(failure);  // escapes io_.run(): a finding
    });
    io_.restart();
    io_.run();
    FUZZ_CHECK(answer.has_value(), std::string(req.target()));
    return std::move(*answer);
  }

 private:
  asio::awaitable<void> serve(const request& req, std::optional<response>& answer) {
    sig::http::request_outcome outcome;
    answer = co_await sig::http::handle_request(req, context_, {}, outcome);
  }

  fs::path directory_;
  std::unique_ptr<sig::store::store> db_;
  sig::auth::password_hasher hasher_;
  sig::auth::jwt_codec tokens_;
  sig::signaling::local_bus bus_;
  sig::signaling::hub hub_;
  sig::telemetry::metrics metrics_;
  sig::api::api_services services_;
  sig::runtime::worker_pool database_pool_;
  sig::runtime::worker_pool hashing_pool_;
  sig::runtime::connection_registry connections_;
  sig::http::http_options options_;
  sig::http::session_context context_;
  asio::io_context io_;
};

// FUZZ_HTTP_TRACE=1 prints each request's line and status, to see what a corpus file reaches.
const bool trace = std::getenv("FUZZ_HTTP_TRACE") != nullptr;

// Every response the server can give is well formed.
void check_response(const response& res, std::string_view target) {
  const unsigned status = res.result_int();
  FUZZ_CHECK(status >= 100 && status <= 599, target);
  FUZZ_CHECK(status != 500, std::string(target) + " -> " + res.body());
  if (res[bhttp::field::content_type] == "application/json" && !res.body().empty())
    FUZZ_CHECK(sig::parse_json(res.body()).has_value(), res.body());
}

/// Parses requests from `bytes` as the HTTP session reads them from its socket, and serves each
/// until the bytes run out or one cannot be parsed.
std::vector<response> serve_bytes(server_fixture& server, std::string_view bytes) {
  std::vector<response> responses;
  for (int served = 0; served < max_requests_per_input && !bytes.empty(); ++served) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(server.options().header_limit));
    parser.body_limit(server.options().body_limit);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      if (bytes.empty()) {
        parser.put_eof(ec);  // the connection ends here
        break;
      }
      const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      if (ec == bhttp::error::need_more) {
        if (used == 0) {  // an incomplete header, and nothing more will come
          parser.put_eof(ec);
          break;
        }
        ec = {};
      }
      if (ec) break;
    }
    if (ec || !parser.is_done()) break;  // 400, 413 or 431 from the session, then it closes
    const request req = parser.release();
    response res = server.handle(req);
    if (trace)
      std::fprintf(stderr, "%s %s -> %u\n", std::string(req.method_string()).c_str(), std::string(req.target()).c_str(),
                   res.result_int());
    check_response(res, req.target());
    responses.push_back(std::move(res));
    if (!req.keep_alive()) break;
  }
  return responses;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::string request_text(std::string_view method, std::string_view target, std::string_view headers,
                         std::string_view body) {
  std::string text = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: fuzz\r\n";
  text += headers;
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  text += body;
  return text;
}

// The fixture's data, made through the API itself at start: an owner and a member of one open
// organization, a virtual IP of the owner, and their tokens.
struct fixture_data {
  std::string owner_token;
  std::string member_token;
  std::string organization_id;
  std::string member_id;
  std::string virtual_ip;
};

boost::json::object call(server_fixture& server, std::string_view method, std::string_view target,
                         std::string_view token, std::string_view body) {
  const std::string headers = "Content-Type: application/json\r\n" +
                              (token.empty() ? std::string() : "Authorization: Bearer " + std::string(token) + "\r\n");
  const auto responses = serve_bytes(server, request_text(method, target, headers, body));
  if (responses.size() == 1 && responses[0].result_int() < 300)
    if (auto parsed = sig::parse_json(responses[0].body()); parsed && parsed->is_object())
      return std::move(parsed->as_object());
  std::fprintf(stderr, "fuzz_http fixture: %.*s %.*s failed\n", static_cast<int>(method.size()), method.data(),
               static_cast<int>(target.size()), target.data());
  std::abort();
}

std::string text_of(const boost::json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}

fixture_data make_fixture_data(server_fixture& server) {
  fixture_data data;
  const auto sign_up = [&](std::string_view email) {
    const std::string credentials = R"({"email":")" + std::string(email) + R"(","password":"fuzz-password-1"})";
    call(server, "POST", "/register", "", credentials);
    return text_of(call(server, "POST", "/login", "", credentials).at("access_token"));
  };
  data.owner_token = sign_up("owner@fuzz.example");
  data.member_token = sign_up("member@fuzz.example");
  const auto organization =
      call(server, "POST", "/organizations", data.owner_token, R"({"name":"fuzz","subnet":"10.77.0.0/16"})");
  data.organization_id = text_of(organization.at("id"));
  const std::string base = "/organizations/" + data.organization_id;
  call(server, "POST", base + "/join", data.member_token, "{}");
  data.member_id = text_of(call(server, "GET", "/me", data.member_token, "").at("id"));
  data.virtual_ip = text_of(call(server, "POST", base + "/allocate_ip", data.owner_token, "{}").at("virtual_ip"));
  return data;
}

struct request_template {
  std::string_view method;
  std::string_view path;  // {org}, {user} and {ip} are replaced
  std::string_view content_type;
};

constexpr request_template request_templates[] = {
    {"POST", "/register", "application/json"},
    {"POST", "/login", "application/json"},
    {"POST", "/login", "application/x-www-form-urlencoded"},
    {"GET", "/me", ""},
    {"POST", "/organizations", "application/json"},
    {"GET", "/organizations", ""},
    {"GET", "/organizations/{org}", ""},
    {"GET", "/organizations/{org}/peers", ""},
    {"POST", "/organizations/{org}/join", "application/json"},
    {"POST", "/organizations/{org}/invites", "application/json"},
    {"GET", "/organizations/{org}/members", ""},
    {"DELETE", "/organizations/{org}/members/{user}", ""},
    {"PATCH", "/organizations/{org}/members/{user}", "application/json"},
    {"POST", "/organizations/{org}/allocate_ip", "application/json"},
    {"GET", "/organizations/{org}/ips", ""},
    {"DELETE", "/organizations/{org}/ips/{ip}", ""},
    {"GET", "/healthz", ""},
    {"GET", "/readyz", ""},
    {"GET", "/metrics", ""},
    {"GET", "/openapi.json", ""},
    {"GET", "/docs", ""},
    {"HEAD", "/organizations/{org}", ""},
    {"OPTIONS", "/organizations/{org}/allocate_ip", ""},
    {"PUT", "/organizations/{org}", "application/json"},
};

std::string structured_request(const fixture_data& data, std::uint8_t flags, std::uint8_t pick, std::string_view rest) {
  const request_template& chosen = request_templates[pick % std::size(request_templates)];
  std::string organization = data.organization_id, user = data.member_id, ip = data.virtual_ip;
  if (flags & 0x10) {  // path parameters from the input: one line, the same text for each
    const std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    organization = user = ip = std::string(line);
  }
  std::string path = replace_all(std::string(chosen.path), "{org}", organization);
  path = replace_all(std::move(path), "{user}", user);
  path = replace_all(std::move(path), "{ip}", ip);

  std::string headers;
  switch ((flags >> 1) & 3) {
    case 0: break;
    case 1: headers += "Authorization: Bearer " + data.owner_token + "\r\n"; break;
    case 2: headers += "Authorization: Bearer " + data.member_token + "\r\n"; break;
    case 3: headers += "Authorization: Bearer " + data.owner_token.substr(0, data.owner_token.size() - 1) + "A\r\n";
  }
  if (!chosen.content_type.empty()) headers += "Content-Type: " + std::string(chosen.content_type) + "\r\n";
  if (flags & 0x08) headers += "Origin: https://fuzz.example\r\n";
  if (chosen.method == "OPTIONS") headers += "Access-Control-Request-Method: POST\r\n";
  return request_text(chosen.method, path, headers, rest);
}

struct fuzz_state {
  server_fixture server;
  fixture_data data = make_fixture_data(server);
};

fuzz_state& state() {
  static fuzz_state instance;
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  spdlog::set_level(spdlog::level::err);  // a 500's cause is logged as an error; the rest is noise
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  fuzz_state& fuzz = state();
  const std::uint8_t flags = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((flags & 1) == 0) {
    std::string raw = replace_all(std::string(rest), "$TOKEN2", fuzz.data.member_token);
    raw = replace_all(std::move(raw), "$TOKEN", fuzz.data.owner_token);
    serve_bytes(fuzz.server, raw);
  } else if (!rest.empty()) {
    serve_bytes(fuzz.server, structured_request(fuzz.data, flags, static_cast<std::uint8_t>(rest[0]), rest.substr(1)));
  }
  return 0;
}
