// The server's configuration: one typed struct, read once at start-up from command-line flags,
// the environment and a .env file (in that order of precedence), validated, then passed by
// const& to whatever needs it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sig::app {

struct server_config {
  std::string host = "0.0.0.0";
  std::int64_t port = 8000;
  std::string database_url = "sqlite:///./signaling.db";
  std::string secret_key;  // empty: generated once and kept (SQLite: a file; PostgreSQL: the database)
  std::int64_t access_token_expire_minutes = 30;
  std::string jwt_issuer;                      // empty: no "iss" issued or checked
  std::string jwt_audience;                    // empty: no "aud" issued or checked
  std::int64_t max_addresses_per_member = 16;  // plain members, per organization; 0: no limit

  // Abuse limits (docs/SECURITY.md); 0 turns one off.
  double auth_rate_per_address_per_minute = 60;  // /login and /register attempts per client address
  std::int64_t auth_burst_per_address = 30;
  double auth_rate_per_account_per_minute = 10;  // failed attempts per account (email)
  std::int64_t auth_burst_per_account = 10;
  std::int64_t max_connections_per_address = 512;
  std::int64_t max_pending_handshakes = 1024;  // connections that have not sent a first request yet
  std::int64_t max_websockets_per_user = 64;
  std::vector<std::string> trusted_proxies;  // their X-Forwarded-For is believed; not limited per address

  std::int64_t password_hash_memory_kib = 19456;
  std::int64_t password_hash_iterations = 2;
  std::int64_t hash_threads = 0;       // 0: one per core
  std::int64_t hash_queue_limit = 64;  // about a second of hashing on two cores at the default cost
  std::int64_t database_threads = 4;
  std::int64_t database_queue_limit = 4096;
  std::int64_t io_threads = 0;  // 0: one per core

  std::int64_t http_read_timeout_seconds = 30;

  double register_timeout_seconds = 10;
  double ws_ping_interval_seconds = 20;
  double ws_idle_timeout_seconds = 60;
  double ws_send_timeout_seconds = 10;
  std::int64_t ws_max_message_bytes = 64 * 1024;
  std::int64_t ws_queue_limit_bytes = 1024 * 1024;
  double ws_rate_limit_per_second = 50;
  std::int64_t ws_rate_limit_burst = 100;
  double cluster_dead_after_seconds = 15;  // PostgreSQL: a process silent this long is dead
  std::vector<std::string> cors_origins{"*"};
  std::string tls_cert_file;  // both set: HTTPS and WSS only
  std::string tls_key_file;
  std::vector<std::string> stun_urls;  // ICE servers offered to agents at registration
  std::vector<std::string> turn_urls;
  std::string turn_secret;  // coturn's static-auth-secret: required with turn_urls
  std::int64_t turn_credential_ttl_seconds = 86'400;
  std::string metrics_token;  // empty: /metrics is open; else it needs "Authorization: Bearer <token>"
  std::string log_level = "info";
  std::string log_format = "text";
  bool access_log = true;  // one line per request and per WebSocket session (logger "access")
};

/// Parses and validates; prints help or errors and returns nullopt with `exit_code` set when the
/// process should stop (--help, bad values). `add_commands` may add subcommands (the
/// administration commands) to the parser before it runs.
std::optional<server_config> load_config(int argc, char** argv, int& exit_code,
                                         const std::function<void(CLI::App&)>& add_commands = {});

/// Every setting as (environment variable, effective value), in --help order; secrets (names with
/// SECRET or TOKEN, and a password in DATABASE_URL) masked. For `signaling-server config check`.
std::vector<std::pair<std::string, std::string>> describe_config(const server_config& config);

}  // namespace sig::app
