// api/body: JSON and url-encoded request bodies read field by field, with FastAPI-shaped errors
// (415 for other media types, 422 with loc/msg/type for everything else), and id path parameters.
#include "api/body.hpp"

#include "api/responses.hpp"
#include "api_test_support.hpp"
#include "core/utf8.hpp"
#include "table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>

namespace {

using table_test::for_each_row;

using namespace std::string_literals;
using namespace std::string_view_literals;
using api_test::json_request;
using api_test::loc_text;
using sig::errc;
using sig::field_error;
using sig::api::body_fields;
using sig::api::id_param;

body_fields parsed(std::string_view body, bool optional = false) {
  auto fields = body_fields::from_json(json_request(body), optional);
  if (!fields) {
    ADD_FAILURE() << body << ": " << fields.error().message();
    return std::move(*body_fields::from_json(json_request("{}")));
  }
  return std::move(*fields);
}

// The single field error of a failed result.
template <class T>
field_error only_error(const sig::result<T>& r) {
  if (r.has_value()) {
    ADD_FAILURE() << "expected a validation error";
    return {};
  }
  EXPECT_EQ(r.error().code, errc::validation_failed) << r.error().message();
  if (r.error().fields.size() != 1) {
    ADD_FAILURE() << r.error().fields.size() << " field errors";
    return r.error().fields.empty() ? field_error{} : r.error().fields[0];
  }
  return r.error().fields[0];
}

// ---------------------------------------------------------------------------------------------
// Content type

TEST(JsonBody, JsonContentTypesAreAccepted) {
  const std::string_view table[] = {
      ""sv,
      "application/json"sv,
      "application/json; charset=utf-8"sv,
      "application/json;charset=UTF-8"sv,
      "Application/JSON"sv,
      "APPLICATION/JSON; charset=utf-8"sv,
      "application/problem+json"sv,
      "application/vnd.api+json"sv,
      "application/json "sv,
  };
  for_each_row(table, [](std::string_view content_type) {
    EXPECT_TRUE(body_fields::from_json(json_request(R"({"a":"b"})", content_type)).has_value());
  });
}

TEST(JsonBody, OtherContentTypesAre415) {
  const std::string_view table[] = {
      "text/plain"sv,
      "application/x-www-form-urlencoded"sv,
      "multipart/form-data; boundary=x"sv,
      "application/jsonp"sv,
      "application/json-patch"sv,
      "text/json"sv,
      "application/xml"sv,
      "json"sv,
      "application/"sv,
  };
  for_each_row(table, [](std::string_view content_type) {
    const auto fields = body_fields::from_json(json_request(R"({"a":"b"})", content_type));
    ASSERT_FALSE(fields.has_value());
    EXPECT_EQ(fields.error().code, errc::unsupported_media_type);
    EXPECT_EQ(sig::api::http_status(fields.error().code), 415u);
  });
}

TEST(JsonBody, MediaTypeIsLowerCasedWithoutParameters) {
  EXPECT_EQ(sig::api::media_type_of("Application/JSON; charset=UTF-8"), "application/json");
  EXPECT_EQ(sig::api::media_type_of(" text/plain ;q=1"), "text/plain");
  EXPECT_EQ(sig::api::media_type_of(""), "");
}

TEST(JsonBody, ContentTypeIsCheckedBeforeTheBody) {
  const auto fields = body_fields::from_json(json_request("not json", "text/plain"));
  ASSERT_FALSE(fields.has_value());
  EXPECT_EQ(fields.error().code, errc::unsupported_media_type);
}

// ---------------------------------------------------------------------------------------------
// Body shape

TEST(JsonBody, EmptyBodyIsAnEmptyObjectWhenOptional) {
  auto fields = body_fields::from_json(json_request(""), /*body_optional=*/true);
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(fields->optional_string("agent_id"), std::nullopt);
  EXPECT_TRUE(fields->finish().has_value());
  // A required field of an empty optional body is still required.
  EXPECT_EQ(fields->required_string("name"), std::nullopt);
  const field_error e = only_error(fields->finish());
  EXPECT_EQ(loc_text(e), R"(["body","name"])");
  EXPECT_EQ(e.msg, "field required");
  EXPECT_EQ(e.type, "value_error.missing");
}

TEST(JsonBody, EmptyBodyIsRequiredOtherwise) {
  const field_error e = only_error(body_fields::from_json(json_request("")));
  EXPECT_EQ(loc_text(e), R"(["body"])");
  EXPECT_EQ(e.msg, "field required");
  EXPECT_EQ(e.type, "value_error.missing");
}

TEST(JsonBody, MalformedJsonReportsTheOffset) {
  const field_error e = only_error(body_fields::from_json(json_request(R"({"email": })")));
  EXPECT_EQ(loc_text(e), R"(["body",10])");
  EXPECT_EQ(e.msg, "Expecting value");
  EXPECT_EQ(e.type, "value_error.jsondecode");
  const field_error trailing = only_error(body_fields::from_json(json_request(R"({"a":"b"} x)")));
  EXPECT_EQ(trailing.type, "value_error.jsondecode");
  EXPECT_EQ(loc_text(trailing), R"(["body",10])");
}

TEST(JsonBody, DuplicateKeysAndInvalidUtf8AreRefused) {
  const field_error dup = only_error(body_fields::from_json(json_request(R"({"email":"a@b.co","email":"c@d.co"})")));
  EXPECT_EQ(dup.msg, "Duplicate key");
  EXPECT_EQ(dup.type, "value_error.jsondecode");
  const std::string bad_utf8 = "{\"name\":\"\xff\"}";
  const field_error utf8 = only_error(body_fields::from_json(json_request(bad_utf8)));
  EXPECT_EQ(utf8.type, "value_error.jsondecode");
}

TEST(JsonBody, NonObjectBodiesAreRefused) {
  for (std::string_view body : {"[1]"sv, R"("text")"sv, "42"sv, "null"sv, "true"sv, "[]"sv}) {
    const field_error e = only_error(body_fields::from_json(json_request(body)));
    EXPECT_EQ(loc_text(e), R"(["body"])") << body;
    EXPECT_EQ(e.msg, "value is not a valid dict") << body;
    EXPECT_EQ(e.type, "type_error.dict") << body;
  }
}

// ---------------------------------------------------------------------------------------------
// Strings

TEST(BodyFields, RequiredString) {
  auto fields = parsed(R"({"email":"a@b.co","empty":"","unicode":"\u00e9"})");
  EXPECT_EQ(fields.required_string("email"), "a@b.co");
  EXPECT_EQ(fields.required_string("empty"), "");
  EXPECT_EQ(fields.required_string("unicode"), "\xc3\xa9");
  EXPECT_TRUE(fields.finish().has_value());
}

struct field_case {
  std::string body;
  std::string msg;
  std::string type;

  friend void PrintTo(const field_case& c, std::ostream* out) { *out << c.body; }
};

TEST(BodyFields, RequiredStringRefusals) {
  const std::vector<field_case> table{
      {"{}", "field required", "value_error.missing"},
      {R"({"other":"x"})", "field required", "value_error.missing"},
      {R"({"name":null})", "field required", "value_error.missing"},
      {R"({"Name":"x"})", "field required", "value_error.missing"},
      {R"({"name":42})", "str type expected", "type_error.str"},
      {R"({"name":1.5})", "str type expected", "type_error.str"},
      {R"({"name":true})", "str type expected", "type_error.str"},
      {R"({"name":["x"]})", "str type expected", "type_error.str"},
      {R"({"name":{"x":1}})", "str type expected", "type_error.str"},
  };
  for_each_row(table, [](const field_case& row) {
    auto fields = parsed(row.body);
    EXPECT_EQ(fields.required_string("name"), std::nullopt);
    const field_error e = only_error(fields.finish());
    EXPECT_EQ(loc_text(e), R"(["body","name"])");
    EXPECT_EQ(e.msg, row.msg);
    EXPECT_EQ(e.type, row.type);
  });
}

TEST(BodyFields, OptionalString) {
  auto fields = parsed(R"({"a":"x","n":null,"num":5})");
  EXPECT_EQ(fields.optional_string("a"), "x");
  EXPECT_EQ(fields.optional_string("absent"), std::nullopt);
  EXPECT_EQ(fields.optional_string("n"), std::nullopt);
  EXPECT_TRUE(fields.finish().has_value());  // absent and null are not errors
  EXPECT_EQ(fields.optional_string("num"), std::nullopt);
  const field_error e = only_error(fields.finish());
  EXPECT_EQ(loc_text(e), R"(["body","num"])");
  EXPECT_EQ(e.msg, "str type expected");
  EXPECT_EQ(e.type, "type_error.str");
}

// ---------------------------------------------------------------------------------------------
// Integers

struct integer_case {
  std::string body;
  std::optional<std::int64_t> value;  // nullopt: refused with `type`
  std::string type;

  friend void PrintTo(const integer_case& c, std::ostream* out) { *out << c.body; }
};

TEST(BodyFields, OptionalIntegerAcceptsOnlyInt64) {
  constexpr auto int64_min = std::numeric_limits<std::int64_t>::min();
  constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
  const std::vector<integer_case> table{
      {R"({"n":5})", 5, ""},
      {R"({"n":0})", 0, ""},
      {R"({"n":-5})", -5, ""},
      {R"({"n":9223372036854775807})", int64_max, ""},
      {R"({"n":-9223372036854775808})", int64_min, ""},
      {R"({"n":9223372036854775808})", std::nullopt, "value_error.number.not_le"},
      {R"({"n":18446744073709551615})", std::nullopt, "value_error.number.not_le"},
      {R"({"n":1.5})", std::nullopt, "type_error.integer"},
      {R"({"n":"5"})", std::nullopt, "type_error.integer"},
      {R"({"n":true})", std::nullopt, "type_error.integer"},
      {R"({"n":false})", std::nullopt, "type_error.integer"},
      {R"({"n":[5]})", std::nullopt, "type_error.integer"},
      {R"({"n":{}})", std::nullopt, "type_error.integer"},
  };
  for_each_row(table, [](const integer_case& row) {
    auto fields = parsed(row.body);
    const auto got = fields.optional_integer("n");
    if (row.value) {
      EXPECT_EQ(got, row.value);
      EXPECT_TRUE(fields.finish().has_value());
    } else {
      EXPECT_EQ(got, std::nullopt);
      const field_error e = only_error(fields.finish());
      EXPECT_EQ(loc_text(e), R"(["body","n"])");
      EXPECT_EQ(e.type, row.type);
    }
  });
}

TEST(BodyFields, IntegerOverflowMessageNamesTheLimit) {
  auto fields = parsed(R"({"n":9223372036854775808})");
  EXPECT_EQ(fields.optional_integer("n"), std::nullopt);
  const field_error e = only_error(fields.finish());
  EXPECT_EQ(e.msg, "ensure this value is less than or equal to 9223372036854775807");
  EXPECT_EQ(e.type, "value_error.number.not_le");
}

TEST(BodyFields, HugeNumbersAreNeverAcceptedAsIntegers) {
  auto fields = parsed(R"({"n":99999999999999999999999})");
  EXPECT_EQ(fields.optional_integer("n"), std::nullopt);
  EXPECT_FALSE(fields.finish().has_value());
}

TEST(BodyFields, AbsentAndNullIntegersAreNotErrors) {
  auto fields = parsed(R"({"n":null})");
  EXPECT_EQ(fields.optional_integer("n"), std::nullopt);
  EXPECT_EQ(fields.optional_integer("absent"), std::nullopt);
  EXPECT_TRUE(fields.finish().has_value());
}

// ---------------------------------------------------------------------------------------------
// Collected errors

TEST(BodyFields, FinishReportsEveryErrorInOrder) {
  auto fields = parsed(R"({"email":5,"max_uses":"x"})");
  (void)fields.required_string("email");
  (void)fields.required_string("password");
  (void)fields.optional_integer("max_uses");
  const auto valid = fields.check("subnet", sig::domain::validate_subnet("10.0.0.5/24"));
  EXPECT_EQ(valid, std::nullopt);
  fields.reject("custom", "custom message", "value_error.custom");
  const auto done = fields.finish();
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, errc::validation_failed);
  ASSERT_EQ(done.error().fields.size(), 5u);
  const auto& f = done.error().fields;
  EXPECT_EQ(loc_text(f[0]), R"(["body","email"])");
  EXPECT_EQ(f[0].type, "type_error.str");
  EXPECT_EQ(loc_text(f[1]), R"(["body","password"])");
  EXPECT_EQ(f[1].type, "value_error.missing");
  EXPECT_EQ(loc_text(f[2]), R"(["body","max_uses"])");
  EXPECT_EQ(f[2].type, "type_error.integer");
  EXPECT_EQ(loc_text(f[3]), R"(["body","subnet"])");
  EXPECT_EQ(f[3].msg, "host bits must be zero (did you mean 10.0.0.0/24?)");
  EXPECT_EQ(f[3].type, "value_error.ipv4network.host_bits");
  EXPECT_EQ(loc_text(f[4]), R"(["body","custom"])");
  EXPECT_EQ(f[4].msg, "custom message");
}

TEST(BodyFields, CheckPassesGoodValuesThrough) {
  auto fields = parsed("{}");
  EXPECT_EQ(fields.check("email", sig::domain::validate_email("Alice@Example.com")), "alice@example.com");
  EXPECT_TRUE(fields.finish().has_value());
}

// ---------------------------------------------------------------------------------------------
// Forms (OAuth2 password form of /login)

TEST(FormBody, DecodesPlusAndPercentEscapes) {
  auto fields = body_fields::from_form("username=alice%40example.com&password=p%40ss+word%21&grant_type=password");
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(fields->required_string("username"), "alice@example.com");
  EXPECT_EQ(fields->required_string("password"), "p@ss word!");
  EXPECT_EQ(fields->optional_string("grant_type"), "password");
  EXPECT_EQ(fields->optional_string("scope"), std::nullopt);
  EXPECT_TRUE(fields->finish().has_value());
}

TEST(FormBody, EscapedSeparatorsAndUnicode) {
  auto fields = body_fields::from_form("a=%2B%26%3D&b=%C3%A9&c=&d&e+f=1");
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(fields->optional_string("a"), "+&=");
  EXPECT_EQ(fields->optional_string("b"), "\xc3\xa9");
  EXPECT_EQ(fields->optional_string("c"), "");
  EXPECT_EQ(fields->optional_string("d"), "");
  EXPECT_EQ(fields->optional_string("e f"), "1");
  EXPECT_TRUE(fields->finish().has_value());
}

TEST(FormBody, ValuesAreAlwaysStrings) {
  auto fields = body_fields::from_form("n=5");
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(fields->optional_integer("n"), std::nullopt);
  EXPECT_EQ(only_error(fields->finish()).type, "type_error.integer");
}

TEST(FormBody, DuplicateKeysAreRefused) {
  for (std::string_view body : {"username=a&username=b"sv, "a=1&b=2&a=1"sv, "a+b=1&a%20b=2"sv}) {
    const field_error e = only_error(body_fields::from_form(body));
    EXPECT_EQ(e.msg, "Duplicate key") << body;
    EXPECT_EQ(e.type, "value_error.duplicate") << body;
  }
  const field_error e = only_error(body_fields::from_form("username=a&username=b"));
  EXPECT_EQ(loc_text(e), R"(["body","username"])");
}

TEST(FormBody, InvalidUtf8IsRefused) {
  for (std::string_view body :
       {"password=%FF"sv, "password=%C3"sv, "password=%ED%A0%80"sv, "%FF=1"sv, "password=%C0%AF"sv}) {
    const field_error e = only_error(body_fields::from_form(body));
    EXPECT_EQ(e.msg, "invalid UTF-8") << body;
    EXPECT_EQ(e.type, "value_error.unicode") << body;
  }
}

TEST(FormBody, ErrorLocationsAreValidUtf8) {
  // The loc is echoed in the 422 JSON answer, which must stay valid UTF-8.
  const auto refused = body_fields::from_form("%FF%FE=1");
  ASSERT_FALSE(refused.has_value());
  for (const field_error& f : refused.error().fields)
    for (const auto& part : f.loc)
      if (const auto* text = std::get_if<std::string>(&part)) {
        EXPECT_TRUE(sig::is_valid_utf8(*text)) << testing::PrintToString(*text);
      }
  const auto response = sig::api::error_response(refused.error());
  EXPECT_EQ(response.status, 422u);
  EXPECT_TRUE(sig::is_valid_utf8(response.body)) << testing::PrintToString(response.body);
}

TEST(FormBody, MalformedEscapesAreRefused) {
  for (std::string_view body : {"a=%ZZ"sv, "a=%"sv, "a=%4"sv, "%=1"sv}) {
    const auto fields = body_fields::from_form(body);
    ASSERT_FALSE(fields.has_value()) << body;
    EXPECT_EQ(fields.error().code, errc::validation_failed) << body;
  }
}

// ---------------------------------------------------------------------------------------------
// id path parameters

sig::api::api_request with_param(std::string_view value) {
  sig::api::api_request request;
  request.params.emplace_back("org_id", value);
  return request;
}

TEST(IdParam, AcceptsPositiveDecimalIntegers) {
  EXPECT_EQ(id_param(with_param("1"), "org_id"), 1);
  EXPECT_EQ(id_param(with_param("42"), "org_id"), 42);
  EXPECT_EQ(id_param(with_param("9223372036854775807"), "org_id"), std::numeric_limits<std::int64_t>::max());
}

TEST(IdParam, EverythingElseIs422OnThePathParameter) {
  const std::string_view table[] = {
      ""sv,
      "abc"sv,
      "1a"sv,
      " 1"sv,
      "1 "sv,
      "1.0"sv,
      "+1"sv,
      "0x10"sv,
      "9223372036854775808"sv,
      "99999999999999999999"sv,
      "%31"sv,
      // ids are positive (api/body.hpp)
      "0"sv,
      "-1"sv,
      "-9223372036854775808"sv,
  };
  for_each_row(table, [](std::string_view text) {
    const auto id = id_param(with_param(text), "org_id");
    ASSERT_FALSE(id.has_value()) << "accepted as " << *id;
    EXPECT_EQ(loc_text(only_error(id)), R"(["path","org_id"])");
  });
}

TEST(IdParam, NonNumericTextHasTheIntegerMessage) {
  const field_error e = only_error(id_param(with_param("abc"), "org_id"));
  EXPECT_EQ(e.msg, "value is not a valid integer");
  EXPECT_EQ(e.type, "type_error.integer");
}

TEST(IdParam, MissingParameterIsRefused) {
  const sig::api::api_request request;
  const field_error e = only_error(id_param(request, "user_id"));
  EXPECT_EQ(loc_text(e), R"(["path","user_id"])");
}

}  // namespace
