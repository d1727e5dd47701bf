// The test PostgreSQL; see postgres_test_database.hpp.
#include "postgres_test_database.hpp"

#include "core/random.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace store_test {
namespace {

using connection_ptr = std::unique_ptr<PGconn, decltype(&PQfinish)>;

connection_ptr connect(const std::string& url) {
  connection_ptr conn(PQconnectdb(url.c_str()), PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to the test PostgreSQL at " + url + ": " +
                             (conn ? PQerrorMessage(conn.get()) : "out of memory"));
  return conn;
}

std::string run(const std::string& url, const std::string& sql) {
  const connection_ptr conn = connect(url);
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), PQclear);
  const auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
  if (status == PGRES_TUPLES_OK && PQntuples(result.get()) > 0 && PQnfields(result.get()) > 0)
    return PQgetvalue(result.get(), 0, 0);
  return "";
}

}  // namespace

std::optional<std::string> postgres_test_url() {
  if (const char* url = std::getenv("SIG_TEST_POSTGRES_URL"); url && *url) return std::string(url);
  if (const char* file = std::getenv("SIG_TEST_POSTGRES_URL_FILE"); file && *file) {
    std::ifstream in(file);
    std::string url;
    if (in >> url && !url.empty()) return url;
  }
  return std::nullopt;
}

bool postgres_tests_required() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

postgres_schema::postgres_schema(const std::string& server_url)
    : server_url_(server_url), name_("store_test_" + sig::random_hex(8)) {
  run(server_url_, "CREATE SCHEMA " + name_);
  url_ = server_url_ + (server_url_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name_;
}

postgres_schema::~postgres_schema() {
  try {
    run(server_url_, "DROP SCHEMA " + name_ + " CASCADE");
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
}

void postgres_schema::execute(const std::string& sql) const { run(url_, sql); }

std::string postgres_schema::value(const std::string& sql) const { return run(url_, sql); }

}  // namespace store_test
