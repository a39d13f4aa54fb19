// Credential validation: for every configured service, is its secret present
// and safe, does it parse, and does a cheap live call accept it?
//
// `ncbocr validate-credentials` runs this before a deployment goes live and
// after a key rotation, so a wrong key is found by an admin, not by the 2 a.m.
// cron run. Each service contributes a Checker: a function that looks at the
// configuration and returns one CheckResult per thing it verified (a service
// that is not configured returns nothing). A failing result says what is
// wrong and spells out the fix. No result ever contains a secret.
//
// Adding a service (Gmail, Drive, Sheets, IMAP, SMTP): write
//   std::vector<CheckResult> CheckGmail(const Config&, const CheckOptions&);
// in its own src/ file, declare it below next to CheckNcb, and add one line
// to BuiltinCheckers() in src/ops/validate.cc. The helpers below (CheckSecret,
// CheckPass, CheckFail) keep the wording and exit codes consistent.
#ifndef NCBOCR_VALIDATE_H_
#define NCBOCR_VALIDATE_H_

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/config.h"
#include "ncbocr/log.h"
#include "ncbocr/status.h"

namespace ncbocr {

struct CheckResult {
  std::string service;  // "ncb", "gmail", ...
  std::string check;    // "api key", "health", ...
  bool ok = false;
  std::string message;  // what was found (never a secret)
  std::string fix;      // what to do about a failure; "" when ok
  // For failures: kCredentials (refused or unsafe), kConfig (missing or
  // invalid setting), kUnavailable (the service did not answer).
  ErrorKind kind = ErrorKind::kOk;
};

struct CheckOptions {
  bool live = true;  // false: files and parsing only, no network calls
  Logger log;        // for the HTTP clients' debug lines
};

using Checker = std::function<std::vector<CheckResult>(const Config&, const CheckOptions&)>;

struct NamedChecker {
  std::string service;
  Checker run;
};

// Every checker this build knows, in the order they are reported.
const std::vector<NamedChecker>& BuiltinCheckers();

// Runs the checkers; a checker that throws becomes a failed "internal" result.
std::vector<CheckResult> RunChecks(const Config& config, const CheckOptions& options,
                                   const std::vector<NamedChecker>& checkers);

// 0 when every result is ok (and there is at least one); otherwise 77 if any
// credential was refused or unsafe, else 78 for configuration, else 69.
int ChecksExitCode(const std::vector<CheckResult>& results);

// A table for people (one line per check, the fix indented below a failure)
// and the same as JSON: {"ok": bool, "exit_code": n, "checks": [...]}.
std::string ChecksText(const std::vector<CheckResult>& results);
nlohmann::json ChecksJson(const std::vector<CheckResult>& results);

// --- helpers for checkers ---
CheckResult CheckPass(const std::string& service, const std::string& check, const std::string& message);
CheckResult CheckFail(const std::string& service, const std::string& check, const Status& why,
                 const std::string& fix);
// A secret file: present, a regular file, 0600 or stricter, not empty.
CheckResult CheckSecret(const std::string& service, const std::string& check, const std::string& path,
                        const std::string& config_key);

// --- the services ---
// NCB: base URL allowed, API key present (file safe), CA file parses, and
// GET {base}/health accepts the key. A file:// outbox checks the directory.
std::vector<CheckResult> CheckNcb(const Config& config, const CheckOptions& options);

// Gmail (fetch.source: gmail): client file and token file safe and parsed,
// a refresh accepted (a revoked grant fails here), users.getProfile answers.
std::vector<CheckResult> CheckGmail(const Config& config, const CheckOptions& options);
// IMAP (fetch.source: imap): URL, password file safe, login and EXAMINE of
// the folder (read-only: no flag changes).
std::vector<CheckResult> CheckImap(const Config& config, const CheckOptions& options);
// Drive (archive.drive_folder_id): key file safe and parsed, a token by the
// JWT grant, files.get on the folder (a folder, in a shared drive).
std::vector<CheckResult> CheckDrive(const Config& config, const CheckOptions& options);
// Sheets (archive.sheets_spreadsheet_id): key file, token, spreadsheets.get.
std::vector<CheckResult> CheckSheets(const Config& config, const CheckOptions& options);
// SMTP (alerts.enabled): host, recipients, password file, and a session
// (STARTTLS off the host, AUTH if configured, NOOP, QUIT) that sends no mail.
std::vector<CheckResult> CheckSmtp(const Config& config, const CheckOptions& options);

}  // namespace ncbocr

#endif  // NCBOCR_VALIDATE_H_
