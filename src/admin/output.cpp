// Table and JSON output of the administration commands; see output.hpp.
#include "admin/output.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <ctime>
#include <ostream>
#include <vector>

namespace sig::admin {
namespace {

namespace json = boost::json;

std::string cell(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "-";
  if (v.is_bool()) return v.get_bool() ? "yes" : "no";
  if (v.is_array()) {
    std::string joined;
    for (const auto& item : v.get_array()) joined += (joined.empty() ? "" : ",") + cell(item);
    return joined.empty() ? "-" : joined;
  }
  return json::serialize(v);
}

}  // namespace

void print_rows(std::ostream& out, const json::array& rows, bool as_json) {
  if (as_json) {
    out << json::serialize(rows) << "\n";
    return;
  }
  if (rows.empty()) {
    out << "(none)\n";
    return;
  }
  std::vector<std::string> keys;
  for (const auto& [key, value] : rows.front().as_object()) keys.emplace_back(key);
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> widths;
  for (const auto& key : keys) widths.push_back(key.size());
  for (const auto& row : rows) {
    auto& line = cells.emplace_back();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto* value = row.as_object().if_contains(keys[i]);
      line.push_back(value ? cell(*value) : "-");
      widths[i] = std::max(widths[i], line.back().size());
    }
  }
  const auto print_line = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(widths[i] - line[i].size() + 2, ' ');
    }
    out << text << "\n";
  };
  std::vector<std::string> header;
  for (auto key : keys) {
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    header.push_back(std::move(key));
  }
  print_line(header);
  for (const auto& line : cells) print_line(line);
}

void print_record(std::ostream& out, const json::object& record, bool as_json) {
  if (as_json) {
    out << json::serialize(record) << "\n";
    return;
  }
  std::size_t width = 0;
  for (const auto& [key, value] : record)
    if (!value.is_array()) width = std::max(width, key.size());
  for (const auto& [key, value] : record) {
    if (value.is_array() && !value.get_array().empty() && value.get_array().front().is_object()) {
      out << "\n" << std::string(key) << ":\n";
      print_rows(out, value.get_array(), false);
      continue;
    }
    out << std::string(key) << ":" << std::string(width - key.size() + 1, ' ') << cell(value) << "\n";
  }
}

std::string iso_time(std::int64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace sig::admin
