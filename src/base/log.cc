#include "ncbocr/log.h"

#include <unistd.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>

namespace ncbocr {

Logger MakeLogger(const LogConfig& config, const std::string& name) {
  spdlog::sink_ptr sink;
  if (config.syslog) {
    sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("ncbocr", 0, LOG_USER, false);
  } else if (!config.file.empty()) {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.file);
    } catch (const spdlog::spdlog_ex&) {
      sink = nullptr;  // fall back to stderr below; the problem is logged there
    }
  }
  bool fell_back = false;
  if (!sink) {
    fell_back = !config.file.empty() && !config.syslog;
    if (::isatty(STDERR_FILENO)) {
      sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    }
  }
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  if (config.syslog) {
    logger->set_pattern("%n: %v");
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S%z %n[%P] %l: %v");
  }
  logger->set_level(spdlog::level::from_str(config.level));
  logger->flush_on(spdlog::level::info);
  if (fell_back) logger->warn("cannot open log file {}; logging to stderr", config.file);
  return logger;
}

Logger NullLogger() {
  return std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
}

}  // namespace ncbocr
