// Wiring of the server; see server.hpp.
#include "app/server.hpp"

#include "api/routes.hpp"
#include "auth/secret_key.hpp"
#include "core/random.hpp"
#include "http/listener.hpp"
#include "signaling/hub.hpp"
#include "store/open_store.hpp"
#include "ws/ws_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

#include <array>
#include <thread>

namespace sig::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr auto shutdown_grace = std::chrono::seconds(10);
constexpr std::array<std::string_view, 2> websocket_paths{"/ws", "/ws/"};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

ws::ws_options websocket_options(const server_config& config) {
  ws::ws_options options;
  options.register_timeout = millis(config.register_timeout_seconds);
  options.ping_interval = millis(config.ws_ping_interval_seconds);
  options.idle_timeout = millis(config.ws_idle_timeout_seconds);
  options.send_timeout = millis(config.ws_send_timeout_seconds);
  options.message_max = static_cast<std::size_t>(config.ws_max_message_bytes);
  options.queue_limit = static_cast<std::size_t>(config.ws_queue_limit_bytes);
  options.rate_per_second = config.ws_rate_limit_per_second;
  options.rate_burst = static_cast<double>(config.ws_rate_limit_burst);
  return options;
}

std::size_t threads_or_cores(std::int64_t configured) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string signing_key(const server_config& config, const store::database_location& location) {
  if (!config.secret_key.empty()) return config.secret_key;
  const auto file = location.kind == store::backend::sqlite ? std::filesystem::path(location.target + ".secret")
                                                            : store::database_directory(location) / "signaling.secret";
  const auto secret = auth::load_or_create_secret(file);
  spdlog::warn(
      "SECRET_KEY is not set: {} the JWT signing key {} (set SECRET_KEY in production, and the same "
      "value on every server process)",
      secret.created ? "generated" : "using", file.string());
  return secret.key;
}

auth::password_hasher make_hasher(const server_config& config) {
  const auth::password_cost cost{static_cast<std::size_t>(config.password_hash_memory_kib),
                                 static_cast<std::uint64_t>(config.password_hash_iterations)};
  if (auth::is_weak(cost))
    spdlog::warn(
        "password hashing cost ({} KiB, {} passes) is below the OWASP minimum (19456 KiB, 2 passes): "
        "for tests and benchmarks only",
        cost.memory_kib, cost.iterations);
  return auth::password_hasher(cost);
}

// Metrics labelled by the route table and the protocol's message types.
telemetry::metrics make_metrics() {
  std::vector<telemetry::route_label> routes;
  for (const api::route& r : api::rest_routes())
    routes.push_back({std::string(api::to_string(r.method)), std::string(r.pattern)});
  const auto names = [](const auto& list) { return std::vector<std::string>(list.begin(), list.end()); };
  return telemetry::metrics(std::move(routes), names(signaling::inbound_kind_names),
                            names(signaling::outbound_kind_names));
}

// TLS 1.2 or newer, with the configured certificate chain and key. Throws on unreadable files.
std::unique_ptr<asio::ssl::context> tls_context(const server_config& config) {
  if (config.tls_cert_file.empty()) return nullptr;
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                   asio::ssl::context::single_dh_use);
  tls->use_certificate_chain_file(config.tls_cert_file);
  tls->use_private_key_file(config.tls_key_file, asio::ssl::context::pem);
  return tls;
}

tcp::acceptor open_acceptor(asio::io_context& io, const server_config& config) {
  const tcp::endpoint endpoint(asio::ip::make_address(config.host), static_cast<std::uint16_t>(config.port));
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

// Stops accepting, winds every connection down, and stops the I/O loop once they are all gone or
// the grace period is over.
asio::awaitable<void> shut_down(tcp::acceptor& acceptor, runtime::connection_registry& connections,
                                asio::io_context& io) {
  boost::system::error_code ignored;
  acceptor.close(ignored);
  connections.shutdown_all();
  const auto deadline = std::chrono::steady_clock::now() + shutdown_grace;
  asio::steady_timer poll(io);
  while (connections.size() > 0 && std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(20));
    co_await poll.async_wait(asio::use_awaitable);
  }
  if (connections.size() > 0) spdlog::warn("{} connections still open after the grace period", connections.size());
  io.stop();
}

}  // namespace

int run_server(const server_config& config) {
  init_crypto();
  const auto location = store::parse_database_url(config.database_url);
  const auto database_threads = static_cast<std::size_t>(config.database_threads);
  const auto db = store::open_store(location, database_threads);
  const auth::password_hasher hasher = make_hasher(config);
  const auth::jwt_codec tokens(signing_key(config, location), std::chrono::minutes(config.access_token_expire_minutes));
  signaling::local_bus bus;
  signaling::hub hub(bus);
  telemetry::metrics metrics = make_metrics();
  api::api_services services{*db, hasher, tokens, hub, metrics};

  runtime::worker_pool database_pool(database_threads, static_cast<std::size_t>(config.database_queue_limit));
  runtime::worker_pool hashing_pool(threads_or_cores(config.hash_threads),
                                    static_cast<std::size_t>(config.hash_queue_limit));
  runtime::connection_registry connections;

  http::http_options options;
  options.read_timeout = std::chrono::seconds(config.http_read_timeout_seconds);
  options.cors_origins = config.cors_origins;
  const ws::ws_options websocket = websocket_options(config);
  ws::ws_context websocket_context{websocket, hub, services, database_pool, connections, metrics};
  const auto tls = tls_context(config);
  http::session_context context{.options = options,
                                .routes = api::rest_routes(),
                                .services = services,
                                .database_pool = database_pool,
                                .hashing_pool = hashing_pool,
                                .connections = connections,
                                .metrics = metrics,
                                .tls = tls.get(),
                                .upgrade = {},
                                .upgrade_tls = {},
                                .upgrade_paths = websocket_paths};
  context.upgrade = [&websocket_context](beast::tcp_stream stream, http::request upgrade) {
    return ws::run_ws_session(std::move(stream), std::move(upgrade), websocket_context);
  };
  context.upgrade_tls = [&websocket_context](http::tls_stream stream, http::request upgrade) {
    return ws::run_ws_session(std::move(stream), std::move(upgrade), websocket_context);
  };

  const std::size_t io_threads = threads_or_cores(config.io_threads);
  asio::io_context io(static_cast<int>(io_threads));
  tcp::acceptor acceptor = open_acceptor(io, config);
  asio::co_spawn(io, http::accept_connections(acceptor, context), asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received: shutting down", signal);
    asio::co_spawn(io, shut_down(acceptor, connections, io), asio::detached);
  });

  const auto bound = acceptor.local_endpoint();
  spdlog::info("listening on {}://{}:{} ({} I/O threads, database {})", tls ? "https" : "http",
               bound.address().to_string(), bound.port(), io_threads,
               location.kind == store::backend::sqlite ? location.target : "postgresql");

  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < io_threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : workers) t.join();
  database_pool.join();
  hashing_pool.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sig::app
