// Wiring of the server; see server.hpp.
#include "app/server.hpp"

#include "app/credentials.hpp"
#include "app/logging.hpp"

#include "api/routes.hpp"
#include "cluster/cluster_node.hpp"
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

#include <sys/resource.h>
#include <unistd.h>

namespace sig::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr auto shutdown_grace = std::chrono::seconds(10);
constexpr auto cluster_leave_grace = std::chrono::seconds(5);
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
  options.ice = ws::ice_options{config.stun_urls, config.turn_urls, config.turn_secret,
                                std::chrono::seconds(config.turn_credential_ttl_seconds)};
  return options;
}

cluster::cluster_config cluster_settings(const server_config& config) {
  cluster::cluster_config settings;
  settings.dead_after = millis(config.cluster_dead_after_seconds);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  settings.process_name = std::string(host) + ":" + std::to_string(::getpid());
  return settings;
}

// The cluster's threads use the hub: they run from start until this object goes, which is before
// the hub goes, however run_server ends.
class running_node {
 public:
  running_node(cluster::cluster_node& node, signaling::hub& hub, telemetry::metrics& metrics) : node_(node) {
    node_.start(hub, metrics);
    // Agents registering before the hub knows the other processes' peers would miss them in
    // their existing_peers.
    if (!node_.wait_ready(std::chrono::seconds(10)))
      spdlog::warn("cluster: not in step with the other processes yet; serving anyway");
  }
  running_node(const running_node&) = delete;
  running_node& operator=(const running_node&) = delete;
  ~running_node() { node_.stop(cluster_leave_grace); }

 private:
  cluster::cluster_node& node_;
};

std::size_t threads_or_cores(std::int64_t configured) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  return std::max(1u, std::thread::hardware_concurrency());
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

// Every connection is a file descriptor: take all the kernel allows this process (the soft limit is
// often 1,024 while the hard one is far higher), and say what it is.
void raise_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  spdlog::info("open file limit: {}",
               limit.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(limit.rlim_cur));
}

http::admission_limits admission_limits(const server_config& config) {
  http::admission_limits limits;
  limits.connections_per_address = static_cast<std::size_t>(config.max_connections_per_address);
  limits.pending_handshakes = static_cast<std::size_t>(config.max_pending_handshakes);
  for (const auto& proxy : config.trusted_proxies) limits.trusted_proxies.push_back(asio::ip::make_address(proxy));
  return limits;
}

api::throttle_settings throttle_settings(const server_config& config) {
  return {config.auth_rate_per_address_per_minute, static_cast<double>(config.auth_burst_per_address),
          config.auth_rate_per_account_per_minute, static_cast<double>(config.auth_burst_per_account)};
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
asio::awaitable<void> shut_down(http::listener& listener, runtime::connection_registry& connections,
                                asio::io_context& io) {
  listener.stop();
  connections.shutdown_all();
  const auto deadline = std::chrono::steady_clock::now() + shutdown_grace;
  asio::steady_timer poll(io);
  while ((!listener.stopped() || connections.size() > 0) && std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(20));
    co_await poll.async_wait(asio::use_awaitable);
  }
  if (connections.size() > 0) spdlog::warn("{} connections still open after the grace period", connections.size());
  io.stop();
}

}  // namespace

int run_server(const server_config& config) {
  init_crypto();
  raise_file_limit();
  const auto location = store::parse_database_url(config.database_url);
  const auto database_threads = static_cast<std::size_t>(config.database_threads);
  const auto db = store::open_store(location, database_threads);
  const auth::password_hasher hasher = make_hasher(config);
  const auth::jwt_codec tokens(signing_key(config, location, *db),
                               std::chrono::minutes(config.access_token_expire_minutes),
                               auth::token_policy{config.jwt_issuer, config.jwt_audience});
  // PostgreSQL: this process is one of a cluster, and presence is shared through the database.
  std::unique_ptr<cluster::cluster_node> node;
  if (auto* shared = db->cluster()) node = std::make_unique<cluster::cluster_node>(*shared, cluster_settings(config));
  signaling::local_bus alone;
  signaling::hub hub(node ? static_cast<signaling::presence_bus&>(*node) : alone, node ? node->id() : 0);
  std::optional<cluster::cluster_directory> cluster_presence;
  if (node) cluster_presence.emplace(*db->cluster(), hub, *node);
  telemetry::metrics metrics = make_metrics();
  api::api_services services{
      *db,     hasher,
      tokens,  cluster_presence ? static_cast<signaling::presence_directory&>(*cluster_presence) : hub,
      metrics, api::api_policy{config.max_addresses_per_member}};
  api::credential_throttle throttle(throttle_settings(config));
  services.throttle = &throttle;
  services.metrics_token = config.metrics_token;
  http::connection_admission admission(admission_limits(config));

  runtime::worker_pool database_pool(database_threads, static_cast<std::size_t>(config.database_queue_limit));
  runtime::worker_pool hashing_pool(threads_or_cores(config.hash_threads),
                                    static_cast<std::size_t>(config.hash_queue_limit));
  runtime::connection_registry connections;

  http::http_options options;
  options.read_timeout = std::chrono::seconds(config.http_read_timeout_seconds);
  options.cors_origins = config.cors_origins;
  const ws::ws_options websocket = websocket_options(config);
  runtime::keyed_slots websockets_per_user(static_cast<std::size_t>(config.max_websockets_per_user));
  const http::access_log access(
      config.access_log ? make_access_logger(config.log_format) : nullptr,
      config.log_format == "json" ? http::access_log_format::json : http::access_log_format::text);
  ws::ws_context websocket_context{
      websocket, hub, services, database_pool, connections, metrics, node.get(), &websockets_per_user, &access};
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
                                .upgrade_paths = websocket_paths,
                                .admission = &admission,
                                .access = &access};
  context.upgrade = [&websocket_context](http::tcp::socket socket, http::request upgrade, http::connection_pass pass,
                                         http::request_origin origin) {
    ws::start_ws_session(std::move(socket), std::move(upgrade), websocket_context, std::move(pass), std::move(origin));
  };
  context.upgrade_tls = [&websocket_context](http::tls_stream stream, http::request upgrade, http::connection_pass pass,
                                             http::request_origin origin) {
    ws::start_ws_session(std::move(stream), std::move(upgrade), websocket_context, std::move(pass), std::move(origin));
  };

  const std::size_t io_threads = threads_or_cores(config.io_threads);
  asio::io_context io(static_cast<int>(io_threads));
  http::listener listener(open_acceptor(io, config), context);
  listener.start();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received: shutting down", signal);
    asio::co_spawn(io, shut_down(listener, connections, io), asio::detached);
  });

  const auto bound = listener.local_endpoint();
  spdlog::info("listening on {}://{}:{} ({} I/O threads, database {})", tls ? "https" : "http",
               bound.address().to_string(), bound.port(), io_threads,
               location.kind == store::backend::sqlite ? location.target
                                                       : "postgresql, cluster process " + std::to_string(node->id()));

  std::optional<running_node> cluster_running;
  if (node) cluster_running.emplace(*node, hub, metrics);
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < io_threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : workers) t.join();
  cluster_running.reset();  // announces what is left of this process offline
  database_pool.join();
  hashing_pool.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sig::app
