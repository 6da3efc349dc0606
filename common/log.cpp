#include "common/log.h"

#include <unistd.h>

#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/time.h"

namespace forage {
namespace {

// A sink that writes each record as one JSON object (properly escaped, unlike a pattern).
class JsonStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(msg.time.time_since_epoch());
    std::string ts = utc_iso(ns.count() / 1000000000, ns.count() % 1000000000, 6);
    nlohmann::json j = {{"ts", ts},
                        {"level", spdlog::level::to_string_view(msg.level).data()},
                        {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  }
  void flush_() override {}
};

}  // namespace

void init_logging(const std::string& level, bool json) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw Error("--log-level: unknown level '" + level +
                "' (trace, debug, info, warn, error, critical, off)");
  std::shared_ptr<spdlog::logger> logger;
  if (json) {
    logger = std::make_shared<spdlog::logger>("forage", std::make_shared<JsonStderrSink>());
  } else {
    logger = std::make_shared<spdlog::logger>(
        "forage", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("forage: %^%l%$: %v");
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

}  // namespace forage
