// A thin RAII layer over one libpq connection: statements prepared once per connection, text
// parameters, typed reading of results, and the SQLSTATE of a failure. Not thread-safe: one
// thread uses a connection at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace sig::store::postgres {

/// A statement failed; `sqlstate` is PostgreSQL's error code (23505 unique_violation, ...).
/// Failures of the connection itself are store_unavailable instead.
class pg_error : public std::runtime_error {
 public:
  pg_error(std::string sqlstate, std::string constraint, const std::string& message);
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  /// The constraint that failed, for integrity violations.
  const std::string& constraint() const noexcept { return constraint_; }

 private:
  std::string sqlstate_;
  std::string constraint_;
};

/// SQLSTATE names this store reacts to.
namespace sqlstate {
inline constexpr std::string_view unique_violation = "23505";
inline constexpr std::string_view foreign_key_violation = "23503";
inline constexpr std::string_view serialization_failure = "40001";
inline constexpr std::string_view deadlock_detected = "40P01";
}  // namespace sqlstate

/// The rows of one result, as text.
class pg_rows {
 public:
  explicit pg_rows(pg_result* result) noexcept : result_(result) {}
  pg_rows(pg_rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  pg_rows& operator=(pg_rows&&) = delete;
  pg_rows(const pg_rows&) = delete;
  ~pg_rows();

  int size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  /// Rows changed by an INSERT, UPDATE or DELETE without RETURNING.
  std::int64_t affected() const;

  bool is_null(int row, int column) const noexcept;
  std::string_view text(int row, int column) const noexcept;
  std::string string(int row, int column) const { return std::string(text(row, column)); }
  std::optional<std::string> optional_string(int row, int column) const;
  /// Throws store_unavailable when the column is not an integer (a schema this server does not
  /// know).
  std::int64_t int64(int row, int column) const;
  std::optional<std::int64_t> optional_int64(int row, int column) const;
  bool boolean(int row, int column) const noexcept { return text(row, column) == "t"; }

 private:
  pg_result* result_;
};

/// Statement parameters in libpq's text format; nullopt is NULL. Text holding a NUL byte is
/// refused (std::invalid_argument): PostgreSQL text cannot hold one, and libpq would cut it.
class pg_params {
 public:
  pg_params() = default;
  template <class... Args>
  explicit pg_params(const Args&... args) {
    (add(args), ...);
  }

  pg_params& add(std::int64_t value);
  pg_params& add(std::uint32_t value) { return add(std::int64_t{value}); }
  pg_params& add(int value) { return add(std::int64_t{value}); }
  pg_params& add(std::string_view text);
  pg_params& add(const std::string& text) { return add(std::string_view(text)); }
  pg_params& add(const char* text) { return add(std::string_view(text)); }
  pg_params& add(std::nullopt_t);
  template <class T>
  pg_params& add(const std::optional<T>& value) {
    return value ? add(*value) : add(std::nullopt);
  }

  int count() const noexcept { return static_cast<int>(values_.size()); }
  /// Pointers into this object: valid until it changes.
  const char* const* values() const;

 private:
  std::vector<std::optional<std::string>> values_;
  mutable std::vector<const char*> pointers_;
};

/// PostgreSQL array literals ({1,2,3}, {"a","b"}) for statements that take a batch at once.
std::string int64_array(const std::vector<std::int64_t>& values);
std::string text_array(const std::vector<std::string>& values);

class pg_connection {
 public:
  /// Connects with `conninfo` (a libpq URI or key=value string). Throws store_unavailable.
  explicit pg_connection(const std::string& conninfo);
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;
  ~pg_connection();

  /// Runs one statement, prepared on first use on this connection. Throws pg_error when the
  /// statement fails, store_unavailable when the connection is lost or the server refuses work.
  pg_rows run(std::string_view sql, const pg_params& params = pg_params());
  /// Runs `sql` once per parameter set, all sent before the first answer is read (libpq's
  /// pipeline mode: one round trip instead of one per statement), in the transaction in progress.
  /// The results in order. Throws like run(); the transaction is then aborted.
  std::vector<pg_rows> run_each(std::string_view sql, std::span<const pg_params> each);
  /// Runs statements without parameters (simple query protocol): BEGIN, COMMIT, migrations.
  void execute(const std::string& sql);

  /// False once the connection is broken.
  bool is_healthy() const noexcept;
  pg_conn* native() const noexcept { return conn_; }

 private:
  /// The name of `sql` prepared on this connection (prepared now if it was not).
  const std::string& prepared(std::string_view sql, int parameters);

  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

/// Throws store_unavailable or pg_error for a failed result (which it frees), with `what` in the
/// message. For code that talks to libpq directly (notifications).
[[noreturn]] void throw_failure(pg_conn* conn, pg_result* result, std::string_view what);

}  // namespace sig::store::postgres
