// api/responses: the one mapping from error kinds to HTTP status and {"detail"} bodies
// (PROTOCOL.md §1), the FastAPI 422 shape, and the WWW-Authenticate / Retry-After headers.
#include "api/responses.hpp"

#include "core/json_parse.hpp"
#include "table.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace {

using table_test::for_each_row;

using sig::errc;
using sig::api::error_response;
using sig::api::http_status;

struct status_case {
  errc code;
  unsigned status;

  friend void PrintTo(const status_case& c, std::ostream* out) {
    *out << "errc " << static_cast<int>(c.code) << " (" << sig::default_detail(c.code) << ")";
  }
};

const status_case every_errc[] = {
    {errc::validation_failed, 422},
    {errc::malformed_request, 400},
    {errc::not_authenticated, 401},
    {errc::invalid_token, 401},
    {errc::bad_credentials, 401},
    {errc::forbidden, 403},
    {errc::not_a_member, 403},
    {errc::invite_required, 403},
    {errc::invite_invalid, 403},
    {errc::not_found, 404},
    {errc::organization_not_found, 404},
    {errc::member_not_found, 404},
    {errc::address_not_found, 404},
    {errc::email_taken, 409},
    {errc::already_member, 409},
    {errc::owner_cannot_leave, 409},
    {errc::owner_role_fixed, 409},
    {errc::subnet_full, 409},
    {errc::address_taken, 409},
    {errc::device_has_address, 409},
    {errc::address_quota_exceeded, 409},
    {errc::peer_online, 409},
    {errc::payload_too_large, 413},
    {errc::unsupported_media_type, 415},
    {errc::rate_limited, 429},
    {errc::overloaded, 503},
    {errc::internal, 500},
};

std::optional<std::string> header(const sig::api::api_response& r, std::string_view name) {
  for (const auto& [key, value] : r.headers)
    if (key == name) return value;
  return std::nullopt;
}

boost::json::object body_of(const sig::api::api_response& r) {
  const auto parsed = sig::parse_json(r.body);
  if (!parsed || !parsed->is_object()) {
    ADD_FAILURE() << "not a JSON object: " << r.body;
    return {};
  }
  return parsed->as_object();
}

TEST(ErrorResponse, EveryErrcMapsToItsStatusHeadersAndDetail) {
  for_each_row(every_errc, [](const status_case& row) {
    const auto [code, status] = row;
    EXPECT_EQ(http_status(code), status) << static_cast<int>(code);
    const auto response = error_response(code);
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(header(response, "WWW-Authenticate"),
              status == 401 ? std::optional<std::string>("Bearer") : std::nullopt);
    EXPECT_EQ(header(response, "Retry-After").has_value(), status == 429 || status == 503);
    if (const auto retry = header(response, "Retry-After")) {
      EXPECT_FALSE(retry->empty());
      EXPECT_EQ(retry->find_first_not_of("0123456789"), std::string::npos) << *retry;
    }
    // Every non-422 error is {"detail": "<default message>"} and nothing else.
    const auto body = body_of(response);
    ASSERT_EQ(body.size(), 1u) << response.body;
    if (code == errc::validation_failed) {
      EXPECT_TRUE(body.at("detail").is_array());
    } else {
      EXPECT_EQ(body.at("detail"), boost::json::string(sig::default_detail(code)));
      EXPECT_FALSE(sig::default_detail(code).empty());
    }
  });
}

TEST(ErrorResponse, SeedMessagesAreExact) {
  EXPECT_EQ(sig::default_detail(errc::bad_credentials), "Incorrect email or password");
  EXPECT_EQ(sig::default_detail(errc::subnet_full), "No free IP address in subnet");
  EXPECT_EQ(sig::default_detail(errc::not_found), "Not Found");
  EXPECT_EQ(body_of(error_response(errc::subnet_full)).at("detail"), "No free IP address in subnet");
}

TEST(ErrorResponse, CustomDetailReplacesTheDefault) {
  const auto response = error_response(errc::forbidden, "Only the owner can change roles");
  EXPECT_EQ(response.status, 403u);
  EXPECT_EQ(body_of(response).at("detail"), "Only the owner can change roles");
  const sig::error e{errc::overloaded, "Database unavailable, retry later", {}};
  EXPECT_EQ(e.message(), "Database unavailable, retry later");
  const auto busy = error_response(e);
  EXPECT_EQ(busy.status, 503u);
  EXPECT_EQ(header(busy, "Retry-After"), "1");
  EXPECT_EQ(body_of(busy).at("detail"), "Database unavailable, retry later");
}

TEST(ErrorResponse, DetailIsEscapedJson) {
  const auto response = error_response(errc::malformed_request, "quote \" backslash \\ newline \n \xc3\xa9");
  EXPECT_EQ(body_of(response).at("detail"), "quote \" backslash \\ newline \n \xc3\xa9");
}

TEST(ErrorResponse, ValidationErrorHasTheFastApiShape) {
  const sig::error e{errc::validation_failed,
                     {},
                     {{{"body", "email"}, "value is not a valid email address", "value_error.email"},
                      {{"body", std::int64_t{6}}, "Expecting value", "value_error.jsondecode"},
                      {{"path", "org_id"}, "value is not a valid integer", "type_error.integer"}}};
  const auto response = error_response(e);
  EXPECT_EQ(response.status, 422u);
  EXPECT_FALSE(header(response, "WWW-Authenticate").has_value());
  const auto expected = boost::json::parse(R"({"detail":[
      {"loc":["body","email"],"msg":"value is not a valid email address","type":"value_error.email"},
      {"loc":["body",6],"msg":"Expecting value","type":"value_error.jsondecode"},
      {"loc":["path","org_id"],"msg":"value is not a valid integer","type":"type_error.integer"}]})");
  EXPECT_EQ(boost::json::value(body_of(response)), expected) << response.body;
  // The integer location stays a JSON number, not a string.
  EXPECT_TRUE(body_of(response).at("detail").as_array().at(1).at("loc").as_array().at(1).is_int64());
}

TEST(ErrorResponse, ValidationErrorWithoutFieldsIsAnEmptyList) {
  const auto response = error_response(errc::validation_failed);
  EXPECT_EQ(response.status, 422u);
  EXPECT_EQ(boost::json::value(body_of(response)), boost::json::parse(R"({"detail":[]})"));
}

TEST(JsonResponse, SerializesWithTheGivenStatus) {
  const auto ok = sig::api::json_response(boost::json::object{{"id", 1}, {"email", "a@b.co"}});
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(ok.content_type, "application/json");
  EXPECT_TRUE(ok.headers.empty());
  EXPECT_EQ(boost::json::parse(ok.body), boost::json::parse(R"({"id":1,"email":"a@b.co"})"));
  const auto created = sig::api::json_response(boost::json::array{1, 2}, 201);
  EXPECT_EQ(created.status, 201u);
  EXPECT_EQ(created.body, "[1,2]");
}

TEST(HttpStatus, EveryErrcIsInTheTable) {
  // Guards the table above: one row per enumerator, in declaration order.
  ASSERT_EQ(std::size(every_errc), static_cast<std::size_t>(errc::internal) + 1);
  for (int i = 0; i <= static_cast<int>(errc::internal); ++i) EXPECT_EQ(static_cast<int>(every_errc[i].code), i);
}

}  // namespace
