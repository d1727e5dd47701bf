// Throttling of password routes; see credential_throttle.hpp.
#include "api/credential_throttle.hpp"

#include "api/body.hpp"

#include <algorithm>
#include <cctype>

namespace sig::api {
namespace {

std::chrono::seconds whole_seconds(keyed_rate_limiter::clock::duration wait) {
  return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(wait));
}

}  // namespace

credential_throttle::credential_throttle(const throttle_settings& settings)
    : by_address_(settings.address_per_minute / 60, settings.address_burst),
      by_account_(settings.account_per_minute / 60, settings.account_burst) {}

std::expected<credential_throttle::attempt, std::chrono::seconds> credential_throttle::admit(
    std::string_view client, const api_request& request) {
  if (const auto wait = by_address_.take(client); wait > wait.zero()) return std::unexpected(whole_seconds(wait));
  attempt admitted{by_account_.enabled() ? account_named_by(request) : std::string()};
  if (admitted.account.empty()) return admitted;
  if (const auto wait = by_account_.take(admitted.account); wait > wait.zero())
    return std::unexpected(whole_seconds(wait));
  return admitted;
}

void credential_throttle::finish(const attempt& admitted, unsigned status) {
  if (status == 200 && !admitted.account.empty()) by_account_.give_back(admitted.account);
}

std::string account_named_by(const api_request& request) {
  const bool form = media_type_of(request.content_type) == "application/x-www-form-urlencoded";
  auto body = form ? body_fields::from_form(request.body) : body_fields::from_json(request);
  if (!body) return {};
  auto account = body->optional_string(form ? "username" : "email").value_or("");
  std::transform(account.begin(), account.end(), account.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return account;
}

}  // namespace sig::api
