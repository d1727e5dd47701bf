// POST /register, POST /login (JSON or OAuth2 password form), GET /me, POST /logout (PROTOCOL.md §2).
#include "api/body.hpp"
#include "api/handlers.hpp"
#include "api/responses.hpp"
#include "api/views.hpp"
#include "service/accounts.hpp"

namespace sig::api::handlers {
namespace {

bool is_form(std::string_view content_type) {
  return media_type_of(content_type) == "application/x-www-form-urlencoded";
}

}  // namespace

api_response register_user(const api_request& request, api_services& services) {
  auto body = body_fields::from_json(request);
  if (!body) return error_response(body.error());
  const auto email_text = body->required_string("email");
  const auto email = email_text ? body->check("email", domain::validate_email(*email_text)) : std::nullopt;
  const auto password_text = body->required_string("password");
  const auto password =
      password_text ? body->check("password", domain::validate_password(*password_text)) : std::nullopt;
  if (auto valid = body->finish(); !valid) return error_response(valid.error());

  const auto user = service::register_user(services.db, services.hasher, *email, *password);
  if (!user) return error_response(user.error());
  return json_response(user_view(*user));
}

api_response login(const api_request& request, api_services& services) {
  const bool form = is_form(request.content_type);
  auto body = form ? body_fields::from_form(request.body) : body_fields::from_json(request);
  if (!body) return error_response(body.error());
  const auto email = body->required_string(form ? "username" : "email");
  const auto password = body->required_string("password");
  if (auto valid = body->finish(); !valid) return error_response(valid.error());

  const auto token = service::login(services.db, services.hasher, services.tokens, *email, *password);
  if (!token) return error_response(token.error());
  return json_response(boost::json::object{
      {"access_token", token->access_token}, {"token_type", "bearer"}, {"expires_in", token->expires_in}});
}

api_response me(const api_request& request, api_services&) { return json_response(user_view(request.user())); }

api_response logout(const api_request& request, api_services& services) {
  service::revoke_tokens(services.db, request.user());
  return json_response(boost::json::object{{"status", "logged_out"}});
}

}  // namespace sig::api::handlers
