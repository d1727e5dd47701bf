// Logging set-up; see logging.hpp.
#include "app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sig::app {
namespace {

// %j: the log message as the contents of a JSON string.
class json_escaped_message final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr char hex[] = "0123456789abcdef";
    for (const char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        dest.push_back('\\');
        dest.push_back(c);
      } else if (byte < 0x20) {
        const char escape[] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0xF]};
        dest.append(escape, escape + sizeof escape);
      } else {
        dest.push_back(c);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<json_escaped_message>(); }
};

constexpr const char* json_time_and_level = R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",)";
constexpr const char* text_time_and_level = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ ";

}  // namespace

void configure_logging(const std::string& level, const std::string& format) {
  auto logger = std::make_shared<spdlog::logger>("signaling", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<json_escaped_message>('j').set_pattern(std::string(json_time_and_level) + R"("message":"%j"})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern(std::string(text_time_and_level) + "%v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

std::shared_ptr<spdlog::logger> make_access_logger(const std::string& format) {
  // A sink of its own: a sink holds the format, and the others' lines have no "logger" field. Each
  // line is one write to the unbuffered stderr, so lines of the two sinks never mix.
  auto logger = std::make_shared<spdlog::logger>("access", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // The line (http/access_log.cpp) brings its own fields: in JSON, "message" and the rest.
  if (format == "json")
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        std::string(json_time_and_level) + R"("logger":"%n",%v})", spdlog::pattern_time_type::utc));
  else
    logger->set_pattern(std::string(text_time_and_level) + "%n %v");
  logger->set_level(spdlog::default_logger()->level());
  logger->flush_on(spdlog::level::info);
  spdlog::drop("access");
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace sig::app
