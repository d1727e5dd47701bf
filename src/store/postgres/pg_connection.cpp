// libpq RAII wrappers; see pg_connection.hpp.
#include "store/postgres/pg_connection.hpp"

#include "store/store.hpp"

#include <libpq-fe.h>

#include <charconv>

namespace sig::store::postgres {
namespace {

// Failures that say "the database cannot serve now" rather than "this statement is wrong":
// connection exceptions (08), insufficient resources (53), operator intervention such as a
// shutdown or a restart (57P), system errors (58).
bool is_unavailability(std::string_view state) noexcept {
  return state.starts_with("08") || state.starts_with("53") || state.starts_with("57P") || state.starts_with("58");
}

std::string field(const PGresult* result, int code) {
  const char* value = result ? PQresultErrorField(result, code) : nullptr;
  return value ? value : "";
}

// Defaults that a connection URI may override: they come before the expanded dbname (libpq
// applies the parameters in order).
constexpr const char* default_keywords[] = {"connect_timeout", "application_name",    "keepalives",
                                            "keepalives_idle", "keepalives_interval", "keepalives_count"};
constexpr const char* default_values[] = {"5", "signaling-server", "1", "10", "5", "3"};

}  // namespace

pg_error::pg_error(std::string sqlstate, std::string constraint, const std::string& message)
    : std::runtime_error(message), sqlstate_(std::move(sqlstate)), constraint_(std::move(constraint)) {}

void throw_failure(pg_conn* conn, pg_result* result, std::string_view what) {
  const std::string state = field(result, PG_DIAG_SQLSTATE);
  const std::string constraint = field(result, PG_DIAG_CONSTRAINT_NAME);
  std::string message(what);
  message += ": ";
  message += result ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  PQclear(result);
  if (PQstatus(conn) != CONNECTION_OK || state.empty() || is_unavailability(state)) throw store_unavailable(message);
  throw pg_error(state, constraint, message);
}

// -- pg_rows ---------------------------------------------------------------------------------------

pg_rows::~pg_rows() { PQclear(result_); }

int pg_rows::size() const noexcept { return PQntuples(result_); }

std::int64_t pg_rows::affected() const {
  const std::string_view count = PQcmdTuples(result_);
  std::int64_t value = 0;
  std::from_chars(count.data(), count.data() + count.size(), value);
  return value;
}

bool pg_rows::is_null(int row, int column) const noexcept { return PQgetisnull(result_, row, column) != 0; }

std::string_view pg_rows::text(int row, int column) const noexcept {
  return {PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column))};
}

std::optional<std::string> pg_rows::optional_string(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return string(row, column);
}

std::int64_t pg_rows::int64(int row, int column) const {
  const std::string_view value = text(row, column);
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size())
    throw store_unavailable("not an integer in column " + std::to_string(column) + ": " + std::string(value));
  return number;
}

std::optional<std::int64_t> pg_rows::optional_int64(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return int64(row, column);
}

// -- pg_params -------------------------------------------------------------------------------------

pg_params& pg_params::add(std::int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

pg_params& pg_params::add(std::string_view text) {
  // libpq takes text parameters as C strings: a NUL would silently cut the value short.
  if (text.find('\0') != std::string_view::npos) throw std::invalid_argument("a text parameter holds a NUL byte");
  values_.emplace_back(std::string(text));
  return *this;
}

pg_params& pg_params::add(std::nullopt_t) {
  values_.emplace_back(std::nullopt);
  return *this;
}

const char* const* pg_params::values() const {
  pointers_.clear();
  for (const auto& value : values_) pointers_.push_back(value ? value->c_str() : nullptr);
  return pointers_.data();
}

std::string int64_array(const std::vector<std::int64_t>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) literal += ',';
    literal += std::to_string(values[i]);
  }
  return literal + "}";
}

std::string text_array(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) literal += ',';
    literal += '"';
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  return literal + "}";
}

// -- pg_connection ---------------------------------------------------------------------------------

pg_connection::pg_connection(const std::string& conninfo) {
  constexpr std::size_t defaults = std::size(default_keywords);
  const char* keywords[defaults + 2];
  const char* values[defaults + 2];
  for (std::size_t i = 0; i < defaults; ++i) {
    keywords[i] = default_keywords[i];
    values[i] = default_values[i];
  }
  keywords[defaults] = "dbname";
  values[defaults] = conninfo.c_str();
  keywords[defaults + 1] = nullptr;
  values[defaults + 1] = nullptr;
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string message = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    PQfinish(conn_);
    throw store_unavailable("cannot connect to PostgreSQL: " + message);
  }
}

pg_connection::~pg_connection() { PQfinish(conn_); }

bool pg_connection::is_healthy() const noexcept {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

const std::string& pg_connection::prepared(std::string_view sql, int parameters) {
  auto statement = prepared_.find(std::string(sql));
  if (statement == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    PGresult* made = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), parameters, nullptr);
    if (PQresultStatus(made) != PGRES_COMMAND_OK) throw_failure(conn_, made, "prepare");
    PQclear(made);
    statement = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  return statement->second;
}

pg_rows pg_connection::run(std::string_view sql, const pg_params& params) {
  const std::string& name = prepared(sql, params.count());
  PGresult* result = PQexecPrepared(conn_, name.c_str(), params.count(), params.values(), nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw_failure(conn_, result, "query");
  return pg_rows(result);
}

std::vector<pg_rows> pg_connection::run_each(std::string_view sql, std::span<const pg_params> each) {
  std::vector<pg_rows> results;
  if (each.empty()) return results;
  const std::string& name = prepared(sql, each.front().count());
  if (PQenterPipelineMode(conn_) != 1) throw_failure(conn_, nullptr, "pipeline");
  bool sent = true;
  for (const pg_params& params : each)
    sent = sent && PQsendQueryPrepared(conn_, name.c_str(), params.count(), params.values(), nullptr, nullptr, 0) == 1;
  if (!sent || PQpipelineSync(conn_) != 1) {
    PQexitPipelineMode(conn_);
    throw store_unavailable(std::string("pipeline: ") + PQerrorMessage(conn_));
  }
  // Every statement's result (then a null that ends it), then the sync point. A failed statement
  // aborts the ones after it; the first failure is the one reported.
  PGresult* failure = nullptr;
  bool broken = false;
  for (std::size_t i = 0; i < each.size() && !broken; ++i) {
    PGresult* result = PQgetResult(conn_);
    if (!result) {
      broken = true;
      break;
    }
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      results.emplace_back(result);
    } else if (status == PGRES_FATAL_ERROR && !failure) {
      failure = result;
    } else {
      PQclear(result);
    }
    if (PGresult* end = PQgetResult(conn_)) PQclear(end);  // the null after each statement's result
  }
  if (!broken) {
    PGresult* sync = PQgetResult(conn_);
    broken = PQresultStatus(sync) != PGRES_PIPELINE_SYNC;
    PQclear(sync);
  }
  PQexitPipelineMode(conn_);
  if (failure) throw_failure(conn_, failure, "query");
  if (broken || results.size() != each.size())
    throw store_unavailable(std::string("pipeline: the connection was lost: ") + PQerrorMessage(conn_));
  return results;
}

void pg_connection::execute(const std::string& sql) {
  PGresult* result = PQexec(conn_, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw_failure(conn_, result, "execute");
  PQclear(result);
}

}  // namespace sig::store::postgres
