// .env loading; see dotenv.hpp.
#include "app/dotenv.hpp"

#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

namespace sig::app {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

}  // namespace

void load_dotenv(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    if (text.starts_with("export ")) text = trim(text.substr(7));
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string key(trim(text.substr(0, equals)));
    std::string_view value = trim(text.substr(equals + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    if (!key.empty()) ::setenv(key.c_str(), std::string(value).c_str(), /*overwrite=*/0);
  }
}

}  // namespace sig::app
