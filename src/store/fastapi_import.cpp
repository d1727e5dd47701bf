// The import from the FastAPI server, for either backend on either side; see fastapi_import.hpp.
#include "store/fastapi_import.hpp"

#include "store/fastapi_backends.hpp"

#include <charconv>
#include <ctime>

namespace sig::store::fastapi {
namespace {

bool read_number(std::string_view text, std::size_t at, std::size_t digits, int& out) {
  if (at + digits > text.size()) return false;
  const char* first = text.data() + at;
  const auto [end, error] = std::from_chars(first, first + digits, out);
  return error == std::errc() && end == first + digits;
}

}  // namespace

std::optional<unix_micros> parse_naive_utc(std::string_view text) {
  // YYYY-MM-DD HH:MM:SS, then optionally . and 1-6 digits of fraction.
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != ' ' && text[10] != 'T') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  if (!read_number(text, 0, 4, year) || !read_number(text, 5, 2, month) || !read_number(text, 8, 2, day) ||
      !read_number(text, 11, 2, hour) || !read_number(text, 14, 2, minute) || !read_number(text, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::int64_t micros = 0;
  if (text.size() > 19) {
    const std::string_view fraction = text.substr(20);
    if (text[19] != '.' || fraction.empty() || fraction.size() > 6 ||
        fraction.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    int value = 0;
    if (!read_number(fraction, 0, fraction.size(), value)) return std::nullopt;
    micros = value;
    for (std::size_t i = fraction.size(); i < 6; ++i) micros *= 10;
  }
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  const std::time_t seconds = ::timegm(&utc);
  if (utc.tm_mday != day) return std::nullopt;  // 31 February and the like, which timegm carries over
  return std::int64_t{seconds} * 1'000'000 + micros;
}

source_database read_source(const database_location& source) {
  if (source.kind == backend::postgres) return postgres::read_fastapi_source(source.target);
  return sqlite::read_fastapi_source(source.target);
}

import_report import_into(const database_location& target, const source_database& source, bool dry_run) {
  open_store(target, 1).reset();  // migrated as the server would, then closed: the file is ours again
  const auto transaction = target.kind == backend::postgres ? postgres::begin_fastapi_import(target.target)
                                                            : sqlite::begin_fastapi_import(target.target);
  import_report report;
  report.before = transaction->counts();
  // Read in the transaction that writes: no other writer can slip between the checks and the rows.
  const import_plan plan = plan_import(source, transaction->state());
  report.skipped = plan.skipped;
  report.renumbered = plan.renumbered;
  report.problems = plan.problems;
  if (!plan.problems.empty()) {
    report.after = report.before;
    return report;
  }
  transaction->write(plan);
  report.after = transaction->counts();
  report.imported = {static_cast<std::int64_t>(plan.users.size()), static_cast<std::int64_t>(plan.organizations.size()),
                     static_cast<std::int64_t>(plan.members.size()), static_cast<std::int64_t>(plan.addresses.size())};
  if (!dry_run) {
    transaction->commit();
    report.written = true;
  }
  return report;
}

}  // namespace sig::store::fastapi
