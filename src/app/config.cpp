// Configuration loading; see config.hpp. Every setting is one row of the tables below: its
// environment variable, its flag, its help text and, for numbers, its bounds.
#include "app/config.hpp"

#include "app/dotenv.hpp"
#include "auth/jwt.hpp"
#include "domain/ice_uri.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>

#include <array>
#include <iostream>
#include <sstream>

namespace sig::app {
namespace {

struct integer_setting {
  const char* env;
  const char* flag;
  const char* help;
  std::int64_t server_config::*field;
  std::int64_t min;
  std::int64_t max;
};

struct text_setting {
  const char* env;
  const char* flag;
  const char* help;
  std::string server_config::*field;
};

constexpr std::int64_t day_minutes = 24 * 60;

constexpr std::array integer_settings{
    integer_setting{"PORT", "--port", "TCP port to listen on (0: any free port)", &server_config::port, 0, 65535},
    integer_setting{"ACCESS_TOKEN_EXPIRE_MINUTES", "--access-token-expire-minutes", "JWT lifetime in minutes",
                    &server_config::access_token_expire_minutes, 1, 365 * day_minutes},
    integer_setting{"AUTH_BURST_PER_ADDRESS", "--auth-burst-per-address",
                    "/login and /register attempts a client address may make at once",
                    &server_config::auth_burst_per_address, 1, 1'000'000},
    integer_setting{"AUTH_BURST_PER_ACCOUNT", "--auth-burst-per-account",
                    "Failed /login and /register attempts on one account (email) at once",
                    &server_config::auth_burst_per_account, 1, 1'000'000},
    integer_setting{"MAX_CONNECTIONS_PER_ADDRESS", "--max-connections-per-address",
                    "Open connections per client address (0: no limit; trusted proxies are exempt)",
                    &server_config::max_connections_per_address, 0, 10'000'000},
    integer_setting{"MAX_PENDING_HANDSHAKES", "--max-pending-handshakes",
                    "Connections that have not sent their first request yet, server-wide (0: no limit)",
                    &server_config::max_pending_handshakes, 0, 10'000'000},
    integer_setting{"MAX_WEBSOCKETS_PER_USER", "--max-websockets-per-user",
                    "Open WebSocket connections per user (0: no limit)", &server_config::max_websockets_per_user, 0,
                    10'000'000},
    integer_setting{"MAX_ADDRESSES_PER_MEMBER", "--max-addresses-per-member",
                    "Virtual IPs a plain member may hold in one organization (owners and admins: no limit; 0: none)",
                    &server_config::max_addresses_per_member, 0, 1 << 24},
    integer_setting{"PASSWORD_HASH_MEMORY_KIB", "--password-hash-memory-kib",
                    "Argon2id memory per hash in KiB (below 19456 is for tests only)",
                    &server_config::password_hash_memory_kib, 8, 4 * 1024 * 1024},
    integer_setting{"PASSWORD_HASH_ITERATIONS", "--password-hash-iterations",
                    "Argon2id passes (below 2 is for tests only)", &server_config::password_hash_iterations, 1, 1000},
    integer_setting{"HASH_THREADS", "--hash-threads", "Password hashing threads (0: one per core)",
                    &server_config::hash_threads, 0, 256},
    integer_setting{"HASH_QUEUE_LIMIT", "--hash-queue-limit",
                    "Logins and registrations accepted at once before answering 503", &server_config::hash_queue_limit,
                    1, 1'000'000},
    integer_setting{"DATABASE_THREADS", "--database-threads", "Database worker threads (and connections)",
                    &server_config::database_threads, 1, 256},
    integer_setting{"DATABASE_QUEUE_LIMIT", "--database-queue-limit",
                    "Requests waiting for the database before answering 503", &server_config::database_queue_limit, 1,
                    10'000'000},
    integer_setting{"IO_THREADS", "--io-threads", "Network I/O threads (0: one per core)", &server_config::io_threads,
                    0, 256},
    integer_setting{"HTTP_READ_TIMEOUT_SECONDS", "--http-read-timeout-seconds",
                    "Deadline to receive a whole request, and keep-alive idle time",
                    &server_config::http_read_timeout_seconds, 1, 3600},
    integer_setting{"WS_MAX_MESSAGE_BYTES", "--ws-max-message-bytes",
                    "Largest WebSocket message accepted (larger: close 1009)", &server_config::ws_max_message_bytes,
                    1024, 16 * 1024 * 1024},
    integer_setting{"WS_QUEUE_LIMIT_BYTES", "--ws-queue-limit-bytes",
                    "Outbound bytes waiting per connection (the write in progress and the agent's own registration "
                    "answer aside) before it is dropped as too slow (close 1013)",
                    &server_config::ws_queue_limit_bytes, 4096, 1024 * 1024 * 1024},
    integer_setting{"TURN_CREDENTIAL_TTL_SECONDS", "--turn-credential-ttl-seconds",
                    "Lifetime of the TURN credentials given to agents (fresh ones are sent at 80 % of it)",
                    &server_config::turn_credential_ttl_seconds, 1, 7 * 24 * 3600},
    integer_setting{"WS_RATE_LIMIT_BURST", "--ws-rate-limit-burst", "Messages a connection may send in a burst",
                    &server_config::ws_rate_limit_burst, 1, 1'000'000},
};

// Durations and rates, in (fractional) seconds so that tests can use short intervals.
struct decimal_setting {
  const char* env;
  const char* flag;
  const char* help;
  double server_config::*field;
  double min;
  double max;
};

constexpr std::array decimal_settings{
    decimal_setting{"REGISTER_TIMEOUT_SECONDS", "--register-timeout-seconds",
                    "The first WebSocket message (register) must arrive within this time",
                    &server_config::register_timeout_seconds, 0.05, 3600},
    decimal_setting{"WS_PING_INTERVAL_SECONDS", "--ws-ping-interval-seconds", "Server WebSocket ping interval",
                    &server_config::ws_ping_interval_seconds, 0.05, 3600},
    decimal_setting{"WS_IDLE_TIMEOUT_SECONDS", "--ws-idle-timeout-seconds",
                    "Close a WebSocket after this long without any inbound frame",
                    &server_config::ws_idle_timeout_seconds, 0.05, 86400},
    decimal_setting{"WS_SEND_TIMEOUT_SECONDS", "--ws-send-timeout-seconds",
                    "Drop a WebSocket whose peer takes longer than this to accept one frame",
                    &server_config::ws_send_timeout_seconds, 0.05, 3600},
    decimal_setting{"WS_RATE_LIMIT_PER_SECOND", "--ws-rate-limit-per-second",
                    "Sustained messages per second a connection may send (beyond: \"Rate limit exceeded\")",
                    &server_config::ws_rate_limit_per_second, 0.01, 1'000'000},
    decimal_setting{"AUTH_RATE_PER_ADDRESS_PER_MINUTE", "--auth-rate-per-address-per-minute",
                    "Sustained /login and /register attempts per minute per client address (0: no limit)",
                    &server_config::auth_rate_per_address_per_minute, 0, 1e9},
    decimal_setting{"AUTH_RATE_PER_ACCOUNT_PER_MINUTE", "--auth-rate-per-account-per-minute",
                    "Sustained failed /login and /register attempts per minute per account (0: no limit)",
                    &server_config::auth_rate_per_account_per_minute, 0, 1e9},
    decimal_setting{"CLUSTER_DEAD_AFTER_SECONDS", "--cluster-dead-after-seconds",
                    "PostgreSQL cluster: a process silent this long is dead and its peers announced offline",
                    &server_config::cluster_dead_after_seconds, 0.5, 3600},
};

constexpr std::array text_settings{
    text_setting{"HOST", "--host", "Address to listen on", &server_config::host},
    text_setting{"DATABASE_URL", "--database-url",
                 "sqlite:///path (default ./signaling.db, one process) or postgresql://... (a cluster)",
                 &server_config::database_url},
    text_setting{"SECRET_KEY", "--secret-key",
                 "JWT signing key (unset: generated once, into a 0600 file beside a SQLite database, or into the "
                 "PostgreSQL database for every process)",
                 &server_config::secret_key},
    text_setting{"JWT_ISSUER", "--jwt-issuer", "\"iss\" of issued tokens, required of presented ones (unset: none)",
                 &server_config::jwt_issuer},
    text_setting{"JWT_AUDIENCE", "--jwt-audience", "\"aud\" of issued tokens, required of presented ones (unset: none)",
                 &server_config::jwt_audience},
    text_setting{"TLS_CERT_FILE", "--tls-cert-file", "PEM certificate chain: serve HTTPS and WSS (with TLS_KEY_FILE)",
                 &server_config::tls_cert_file},
    text_setting{"TLS_KEY_FILE", "--tls-key-file", "PEM private key of the certificate", &server_config::tls_key_file},
    text_setting{"TURN_SECRET", "--turn-secret",
                 "Secret shared with the TURN server (coturn: use-auth-secret, static-auth-secret); needs TURN_URLS",
                 &server_config::turn_secret},
    text_setting{"METRICS_TOKEN", "--metrics-token",
                 "GET /metrics requires \"Authorization: Bearer <token>\" (at least 16 bytes; unset: open)",
                 &server_config::metrics_token},
    text_setting{"LOG_LEVEL", "--log-level", "trace, debug, info, warn, error, critical or off",
                 &server_config::log_level},
    text_setting{"LOG_FORMAT", "--log-format", "text or json (one JSON object per line)", &server_config::log_format},
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) items.push_back(item);
    start = comma + 1;
  }
  return items;
}

constexpr std::size_t min_metrics_token_bytes = 16;

// STUN_URLS / TURN_URLS as lists of URIs of their kind; an empty string when they are good, else
// what is wrong.
std::string ice_urls_problem(const std::vector<std::string>& urls, domain::ice_server_kind kind) {
  const bool stun = kind == domain::ice_server_kind::stun;
  for (const auto& url : urls)
    if (!domain::is_valid_ice_uri(url, kind))
      return std::string(stun ? "STUN_URLS" : "TURN_URLS") + ": not a " +
             (stun ? "stun: or stuns:" : "turn: or turns:") + " URI (scheme:host[:port]" +
             (stun ? "" : "[?transport=udp|tcp]") + "): " + url;
  return {};
}

std::string ice_and_metrics_problem(const server_config& config) {
  if (auto problem = ice_urls_problem(config.stun_urls, domain::ice_server_kind::stun); !problem.empty())
    return problem;
  if (auto problem = ice_urls_problem(config.turn_urls, domain::ice_server_kind::turn); !problem.empty())
    return problem;
  if (!config.turn_urls.empty() && config.turn_secret.empty())
    return "TURN_URLS needs TURN_SECRET: the secret shared with the TURN server (coturn's static-auth-secret)";
  if (config.turn_urls.empty() && !config.turn_secret.empty())
    return "TURN_SECRET is set but TURN_URLS is not: no TURN server would use it";
  if (!config.metrics_token.empty() && config.metrics_token.size() < min_metrics_token_bytes)
    return "METRICS_TOKEN is too short: " + std::to_string(config.metrics_token.size()) + " bytes; it needs at least " +
           std::to_string(min_metrics_token_bytes) + " (generate one with: openssl rand -hex 32)";
  return {};
}

}  // namespace

std::optional<server_config> load_config(int argc, char** argv, int& exit_code,
                                         const std::function<void(CLI::App&)>& add_commands) {
  load_dotenv(".env");
  server_config config;
  CLI::App cli{"signaling-server: signaling and control-plane server of a peer-to-peer mesh VPN"};
  cli.get_formatter()->column_width(40);
  for (const auto& s : integer_settings)
    cli.add_option(s.flag, config.*s.field, s.help)
        ->envname(s.env)
        ->check(CLI::Range(s.min, s.max))
        ->capture_default_str();
  for (const auto& s : decimal_settings)
    cli.add_option(s.flag, config.*s.field, s.help)
        ->envname(s.env)
        ->check(CLI::Range(s.min, s.max))
        ->capture_default_str();
  for (const auto& s : text_settings) cli.add_option(s.flag, config.*s.field, s.help)->envname(s.env);
  std::string cors = "*";
  cli.add_option("--cors-origins", cors, "Comma-separated origins allowed by CORS (* for any, empty for none)")
      ->envname("CORS_ORIGINS")
      ->capture_default_str();
  std::string stun_urls;
  cli.add_option("--stun-urls", stun_urls, "Comma-separated stun:/stuns: URIs offered to agents as ICE servers")
      ->envname("STUN_URLS");
  std::string turn_urls;
  cli.add_option("--turn-urls", turn_urls,
                 "Comma-separated turn:/turns: URIs offered to agents with credentials (needs TURN_SECRET)")
      ->envname("TURN_URLS");
  std::string trusted_proxies;
  cli.add_option("--trusted-proxies", trusted_proxies,
                 "Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed")
      ->envname("TRUSTED_PROXIES");
  cli.get_option("--log-level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  cli.get_option("--log-format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cli.add_option("--access-log", config.access_log,
                 "on or off: one line per HTTP request and per WebSocket session, at info level (logger \"access\")")
      ->envname("ACCESS_LOG")
      ->check(CLI::IsMember({"on", "off"}))
      ->default_str("on");
  cli.get_option("--host")->capture_default_str();
  cli.get_option("--database-url")->capture_default_str();
  if (add_commands) add_commands(cli);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = cli.exit(e);
    return std::nullopt;
  }
  config.cors_origins = split_list(cors);
  config.trusted_proxies = split_list(trusted_proxies);
  config.stun_urls = split_list(stun_urls);
  config.turn_urls = split_list(turn_urls);
  if (const auto problem = ice_and_metrics_problem(config); !problem.empty()) {
    std::cerr << problem << "\n";
    exit_code = 2;
    return std::nullopt;
  }
  for (const auto& proxy : config.trusted_proxies) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(proxy, ec);
    if (ec) {
      std::cerr << "TRUSTED_PROXIES: not an IP address: " << proxy << "\n";
      exit_code = 2;
      return std::nullopt;
    }
  }
  if (!config.secret_key.empty() && config.secret_key.size() < auth::min_secret_bytes) {
    std::cerr << "SECRET_KEY is too short: " << config.secret_key.size() << " bytes; a signing key needs at least "
              << auth::min_secret_bytes << " (generate one with: openssl rand -hex 32)\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    std::cerr << "TLS_CERT_FILE and TLS_KEY_FILE go together: set both or neither\n";
    exit_code = 2;
    return std::nullopt;
  }
  return config;
}

namespace {

std::string masked(std::string_view env, const std::string& value) {
  if (value.empty()) return value;
  const std::string name(env);
  if (name.find("SECRET") != std::string::npos || name.find("TOKEN") != std::string::npos) return "********";
  if (name == "DATABASE_URL") {
    // scheme://user:password@host...: the password goes.
    const auto scheme_end = value.find("://");
    const auto at = value.find('@');
    const auto colon = scheme_end == std::string::npos ? std::string::npos : value.find(':', scheme_end + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      return value.substr(0, colon + 1) + "********" + value.substr(at);
  }
  return value;
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ",") + item;
  return text;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> describe_config(const server_config& config) {
  std::vector<std::pair<std::string, std::string>> settings;
  for (const auto& s : text_settings) settings.emplace_back(s.env, masked(s.env, config.*s.field));
  for (const auto& s : integer_settings) settings.emplace_back(s.env, std::to_string(config.*s.field));
  for (const auto& s : decimal_settings) {
    std::ostringstream text;
    text << config.*s.field;
    settings.emplace_back(s.env, text.str());
  }
  settings.emplace_back("CORS_ORIGINS", joined(config.cors_origins));
  settings.emplace_back("TRUSTED_PROXIES", joined(config.trusted_proxies));
  return settings;
}

}  // namespace sig::app
