// Logging: one spdlog logger per stage, configured from LogConfig.
//
// Lines about a claim name the claim id and nothing personal: no member
// names, ids, policy numbers, email text or receipt text, at any level.
#ifndef NCBOCR_LOG_H_
#define NCBOCR_LOG_H_

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "ncbocr/config.h"

namespace ncbocr {

using Logger = std::shared_ptr<spdlog::logger>;

// A logger named after the stage, writing where LogConfig says (stderr, a file,
// or syslog). Never fails: an unusable log file falls back to stderr.
Logger MakeLogger(const LogConfig& config, const std::string& name);

// A logger that discards everything (tests).
Logger NullLogger();

}  // namespace ncbocr

#endif  // NCBOCR_LOG_H_
