#include "ncbocr/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "ncbocr/url.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

enum class Kind { kString, kPath, kInt, kDouble, kBool, kStringList, kFieldMap };

struct Key {
  Kind kind;
  std::function<void(Config&, const YAML::Node&)> set;
};

// The schema: every key the file may hold. A key not listed here is an error.
const std::map<std::string, Key>& Schema() {
  using N = const YAML::Node&;
  static const std::map<std::string, Key> schema = {
      {"spool", {Kind::kPath, [](Config& c, N n) { c.spool = n.as<std::string>(); }}},
      {"log.level", {Kind::kString, [](Config& c, N n) { c.log.level = n.as<std::string>(); }}},
      {"log.file", {Kind::kPath, [](Config& c, N n) { c.log.file = n.as<std::string>(); }}},
      {"log.syslog", {Kind::kBool, [](Config& c, N n) { c.log.syslog = n.as<bool>(); }}},

      {"fetch.source", {Kind::kString, [](Config& c, N n) { c.fetch.source = n.as<std::string>(); }}},
      {"fetch.path", {Kind::kPath, [](Config& c, N n) { c.fetch.path = n.as<std::string>(); }}},
      {"fetch.on_processed", {Kind::kString, [](Config& c, N n) { c.fetch.on_processed = n.as<std::string>(); }}},
      {"fetch.processed_path", {Kind::kPath, [](Config& c, N n) { c.fetch.processed_path = n.as<std::string>(); }}},
      {"fetch.max_attachment_bytes", {Kind::kInt, [](Config& c, N n) { c.fetch.max_attachment_bytes = n.as<long long>(); }}},
      {"fetch.max_message_bytes", {Kind::kInt, [](Config& c, N n) { c.fetch.max_message_bytes = n.as<long long>(); }}},
      {"fetch.min_image_bytes", {Kind::kInt, [](Config& c, N n) { c.fetch.min_image_bytes = n.as<long long>(); }}},
      {"fetch.min_image_pixels", {Kind::kInt, [](Config& c, N n) { c.fetch.min_image_pixels = n.as<int>(); }}},

      {"gmail.credentials_path", {Kind::kPath, [](Config& c, N n) { c.gmail.credentials_path = n.as<std::string>(); }}},
      {"gmail.token_path", {Kind::kPath, [](Config& c, N n) { c.gmail.token_path = n.as<std::string>(); }}},
      {"gmail.poll_interval", {Kind::kInt, [](Config& c, N n) { c.gmail.poll_interval = n.as<int>(); }}},
      {"gmail.query", {Kind::kString, [](Config& c, N n) { c.gmail.query = n.as<std::string>(); }}},
      {"gmail.processed_label", {Kind::kString, [](Config& c, N n) { c.gmail.processed_label = n.as<std::string>(); }}},
      {"gmail.api_base_url", {Kind::kString, [](Config& c, N n) { c.gmail.api_base_url = n.as<std::string>(); }}},
      {"gmail.user", {Kind::kString, [](Config& c, N n) { c.gmail.user = n.as<std::string>(); }}},

      {"imap.url", {Kind::kString, [](Config& c, N n) { c.imap.url = n.as<std::string>(); }}},
      {"imap.username", {Kind::kString, [](Config& c, N n) { c.imap.username = n.as<std::string>(); }}},
      {"imap.password_file", {Kind::kPath, [](Config& c, N n) { c.imap.password_file = n.as<std::string>(); }}},
      {"imap.search", {Kind::kString, [](Config& c, N n) { c.imap.search = n.as<std::string>(); }}},
      {"imap.processed_keyword", {Kind::kString, [](Config& c, N n) { c.imap.processed_keyword = n.as<std::string>(); }}},
      {"imap.move_to", {Kind::kString, [](Config& c, N n) { c.imap.move_to = n.as<std::string>(); }}},
      {"imap.ca_file", {Kind::kPath, [](Config& c, N n) { c.imap.ca_file = n.as<std::string>(); }}},

      {"ocr.languages", {Kind::kStringList, [](Config& c, N n) { c.ocr.languages = n.as<std::vector<std::string>>(); }}},
      {"ocr.use_gpu", {Kind::kString, [](Config& c, N n) { c.ocr.use_gpu = n.as<std::string>(); }}},
      {"ocr.batch_size", {Kind::kInt, [](Config& c, N n) { c.ocr.batch_size = n.as<int>(); }}},
      {"ocr.workers", {Kind::kInt, [](Config& c, N n) { c.ocr.workers = n.as<int>(); }}},
      {"ocr.psm", {Kind::kInt, [](Config& c, N n) { c.ocr.psm = n.as<int>(); }}},
      {"ocr.reread_lines", {Kind::kBool, [](Config& c, N n) { c.ocr.reread_lines = n.as<bool>(); }}},
      {"ocr.upside_down_min_confidence", {Kind::kDouble, [](Config& c, N n) { c.ocr.upside_down_min_confidence = n.as<double>(); }}},
      {"ocr.pdf_dpi", {Kind::kInt, [](Config& c, N n) { c.ocr.pdf_dpi = n.as<int>(); }}},
      {"ocr.max_pixels", {Kind::kInt, [](Config& c, N n) { c.ocr.max_pixels = n.as<long long>(); }}},
      {"ocr.max_pages", {Kind::kInt, [](Config& c, N n) { c.ocr.max_pages = n.as<int>(); }}},
      {"ocr.max_claim_pixels", {Kind::kInt, [](Config& c, N n) { c.ocr.max_claim_pixels = n.as<long long>(); }}},
      {"ocr.max_email_pixels", {Kind::kInt, [](Config& c, N n) { c.ocr.max_email_pixels = n.as<long long>(); }}},
      {"ocr.worker_memory_mb", {Kind::kInt, [](Config& c, N n) { c.ocr.worker_memory_mb = n.as<int>(); }}},
      {"ocr.page_timeout", {Kind::kInt, [](Config& c, N n) { c.ocr.page_timeout = n.as<int>(); }}},
      {"ocr.claim_timeout", {Kind::kInt, [](Config& c, N n) { c.ocr.claim_timeout = n.as<int>(); }}},
      {"ocr.max_attempts", {Kind::kInt, [](Config& c, N n) { c.ocr.max_attempts = n.as<int>(); }}},
      {"ocr.tessdata_dir", {Kind::kPath, [](Config& c, N n) { c.ocr.tessdata_dir = n.as<std::string>(); }}},
      {"ocr.engine", {Kind::kString, [](Config& c, N n) { c.ocr.engine = n.as<std::string>(); }}},
      {"ocr.second_reading", {Kind::kString, [](Config& c, N n) { c.ocr.second_reading = n.as<std::string>(); }}},
      {"ocr.models_dir", {Kind::kPath, [](Config& c, N n) { c.ocr.models_dir = n.as<std::string>(); }}},

      {"extract.high_confidence_threshold", {Kind::kDouble, [](Config& c, N n) { c.extract.high_confidence_threshold = n.as<double>(); }}},
      {"extract.review_sample_rate", {Kind::kDouble, [](Config& c, N n) { c.extract.review_sample_rate = n.as<double>(); }}},
      {"extract.allow_empty_invoice_number", {Kind::kBool, [](Config& c, N n) { c.extract.allow_empty_invoice_number = n.as<bool>(); }}},
      {"extract.max_service_age_days", {Kind::kInt, [](Config& c, N n) { c.extract.max_service_age_days = n.as<int>(); }}},
      {"extract.member_id_patterns", {Kind::kStringList, [](Config& c, N n) { c.extract.member_id_patterns = n.as<std::vector<std::string>>(); }}},
      {"extract.policy_number_patterns", {Kind::kStringList, [](Config& c, N n) { c.extract.policy_number_patterns = n.as<std::vector<std::string>>(); }}},

      {"ncb.base_url", {Kind::kString, [](Config& c, N n) { c.ncb.base_url = n.as<std::string>(); }}},
      {"ncb.api_key", {Kind::kString, [](Config& c, N n) { c.ncb.api_key = n.as<std::string>(); }}},
      {"ncb.api_key_file", {Kind::kPath, [](Config& c, N n) { c.ncb.api_key_file = n.as<std::string>(); }}},
      {"ncb.ca_file", {Kind::kPath, [](Config& c, N n) { c.ncb.ca_file = n.as<std::string>(); }}},
      {"ncb.connect_timeout", {Kind::kInt, [](Config& c, N n) { c.ncb.connect_timeout = n.as<int>(); }}},
      {"ncb.timeout", {Kind::kInt, [](Config& c, N n) { c.ncb.timeout = n.as<int>(); }}},
      {"ncb.max_attempts", {Kind::kInt, [](Config& c, N n) { c.ncb.max_attempts = n.as<int>(); }}},
      {"ncb.alert_after", {Kind::kInt, [](Config& c, N n) { c.ncb.alert_after = n.as<int>(); }}},
      {"ncb.field_map", {Kind::kFieldMap, [](Config& c, N n) {
         c.ncb.field_map.clear();
         for (const auto& kv : n) c.ncb.field_map.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
       }}},

      {"archive.dir", {Kind::kPath, [](Config& c, N n) { c.archive.dir = n.as<std::string>(); }}},
      {"archive.audit_csv", {Kind::kPath, [](Config& c, N n) { c.archive.audit_csv = n.as<std::string>(); }}},
      {"archive.drive_credentials_path", {Kind::kPath, [](Config& c, N n) { c.archive.drive_credentials_path = n.as<std::string>(); }}},
      {"archive.drive_folder_id", {Kind::kString, [](Config& c, N n) { c.archive.drive_folder_id = n.as<std::string>(); }}},
      {"archive.drive_api_base_url", {Kind::kString, [](Config& c, N n) { c.archive.drive_api_base_url = n.as<std::string>(); }}},
      {"archive.sheets_credentials_path", {Kind::kPath, [](Config& c, N n) { c.archive.sheets_credentials_path = n.as<std::string>(); }}},
      {"archive.sheets_spreadsheet_id", {Kind::kString, [](Config& c, N n) { c.archive.sheets_spreadsheet_id = n.as<std::string>(); }}},
      {"archive.sheets_api_base_url", {Kind::kString, [](Config& c, N n) { c.archive.sheets_api_base_url = n.as<std::string>(); }}},
      {"archive.service_account_subject", {Kind::kString, [](Config& c, N n) { c.archive.service_account_subject = n.as<std::string>(); }}},

      {"alerts.enabled", {Kind::kBool, [](Config& c, N n) { c.alerts.enabled = n.as<bool>(); }}},
      {"alerts.smtp_host", {Kind::kString, [](Config& c, N n) { c.alerts.smtp_host = n.as<std::string>(); }}},
      {"alerts.smtp_port", {Kind::kInt, [](Config& c, N n) { c.alerts.smtp_port = n.as<int>(); }}},
      {"alerts.smtp_username", {Kind::kString, [](Config& c, N n) { c.alerts.smtp_username = n.as<std::string>(); }}},
      {"alerts.smtp_password", {Kind::kString, [](Config& c, N n) { c.alerts.smtp_password = n.as<std::string>(); }}},
      {"alerts.smtp_password_file", {Kind::kPath, [](Config& c, N n) { c.alerts.smtp_password_file = n.as<std::string>(); }}},
      {"alerts.recipients", {Kind::kStringList, [](Config& c, N n) { c.alerts.recipients = n.as<std::vector<std::string>>(); }}},
      {"alerts.from", {Kind::kString, [](Config& c, N n) { c.alerts.from = n.as<std::string>(); }}},

      {"metrics.enabled", {Kind::kBool, [](Config& c, N n) { c.metrics.enabled = n.as<bool>(); }}},
      {"metrics.textfile_dir", {Kind::kPath, [](Config& c, N n) { c.metrics.textfile_dir = n.as<std::string>(); }}},
      {"metrics.pushgateway_url",
       {Kind::kString, [](Config& c, N n) { c.metrics.pushgateway_url = n.as<std::string>(); }}},
      {"metrics.instance", {Kind::kString, [](Config& c, N n) { c.metrics.instance = n.as<std::string>(); }}},

      {"backup.dir", {Kind::kPath, [](Config& c, N n) { c.backup.dir = n.as<std::string>(); }}},
      {"backup.keep_days", {Kind::kInt, [](Config& c, N n) { c.backup.keep_days = n.as<int>(); }}},

      {"health.stage_interval.fetch", {Kind::kInt, [](Config& c, N n) { c.health.stage_interval["fetch"] = n.as<int>(); }}},
      {"health.stage_interval.ocr", {Kind::kInt, [](Config& c, N n) { c.health.stage_interval["ocr"] = n.as<int>(); }}},
      {"health.stage_interval.extract", {Kind::kInt, [](Config& c, N n) { c.health.stage_interval["extract"] = n.as<int>(); }}},
      {"health.stage_interval.submit", {Kind::kInt, [](Config& c, N n) { c.health.stage_interval["submit"] = n.as<int>(); }}},
      {"health.stage_interval.archive", {Kind::kInt, [](Config& c, N n) { c.health.stage_interval["archive"] = n.as<int>(); }}},
      {"health.max_backlog", {Kind::kInt, [](Config& c, N n) { c.health.max_backlog = n.as<int>(); }}},
      {"health.max_review", {Kind::kInt, [](Config& c, N n) { c.health.max_review = n.as<int>(); }}},
      {"health.max_consecutive_failures", {Kind::kInt, [](Config& c, N n) { c.health.max_consecutive_failures = n.as<int>(); }}},
      {"health.max_claim_attempts", {Kind::kInt, [](Config& c, N n) { c.health.max_claim_attempts = n.as<int>(); }}},
      {"health.min_free_percent", {Kind::kDouble, [](Config& c, N n) { c.health.min_free_percent = n.as<double>(); }}},
  };
  return schema;
}

// The deployment guide's environment variables and the keys they set.
const std::vector<std::pair<const char*, const char*>>& EnvNames() {
  static const std::vector<std::pair<const char*, const char*>> names = {
      {"NCBOCR_SPOOL", "spool"},
      {"LOG_LEVEL", "log.level"},
      {"GMAIL_CREDENTIALS_PATH", "gmail.credentials_path"},
      {"GMAIL_TOKEN_PATH", "gmail.token_path"},
      {"GMAIL_POLL_INTERVAL", "gmail.poll_interval"},
      {"GMAIL_API_BASE_URL", "gmail.api_base_url"},
      {"NCB_API_BASE_URL", "ncb.base_url"},
      {"NCB_API_KEY", "ncb.api_key"},
      {"SHEETS_CREDENTIALS_PATH", "archive.sheets_credentials_path"},
      {"SHEETS_SPREADSHEET_ID", "archive.sheets_spreadsheet_id"},
      {"SHEETS_API_BASE_URL", "archive.sheets_api_base_url"},
      {"DRIVE_CREDENTIALS_PATH", "archive.drive_credentials_path"},
      {"DRIVE_FOLDER_ID", "archive.drive_folder_id"},
      {"DRIVE_API_BASE_URL", "archive.drive_api_base_url"},
      {"OCR_USE_GPU", "ocr.use_gpu"},
      {"OCR_BATCH_SIZE", "ocr.batch_size"},
      {"OCR_HIGH_CONFIDENCE_THRESHOLD", "extract.high_confidence_threshold"},
      {"ALERTS_ENABLED", "alerts.enabled"},
      {"SMTP_HOST", "alerts.smtp_host"},
      {"SMTP_PORT", "alerts.smtp_port"},
      {"SMTP_USERNAME", "alerts.smtp_username"},
      {"SMTP_PASSWORD", "alerts.smtp_password"},
      {"ALERT_RECIPIENTS", "alerts.recipients"},
      {"METRICS_ENABLED", "metrics.enabled"},
      {"METRICS_PUSHGATEWAY_URL", "metrics.pushgateway_url"},
      {"METRICS_INSTANCE", "metrics.instance"},
      // What differs from host to host of one deployment.
      {"FETCH_SOURCE", "fetch.source"},
      {"FETCH_PATH", "fetch.path"},
      {"IMAP_URL", "imap.url"},
      {"IMAP_USERNAME", "imap.username"},
      {"IMAP_PASSWORD_FILE", "imap.password_file"},
      {"NCB_API_KEY_FILE", "ncb.api_key_file"},
      {"OCR_WORKERS", "ocr.workers"},
      {"OCR_ENGINE", "ocr.engine"},
      {"OCR_MODELS_DIR", "ocr.models_dir"},
      {"OCR_SECOND_READING", "ocr.second_reading"},
      {"LOG_FILE", "log.file"},
  };
  return names;
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kString: case Kind::kPath: return "a string";
    case Kind::kInt: return "an integer";
    case Kind::kDouble: return "a number";
    case Kind::kBool: return "true or false";
    case Kind::kStringList: return "a list of strings";
    case Kind::kFieldMap: return "a mapping of NCB field name to claim field";
  }
  return "a value";
}

bool ShapeMatches(Kind k, const YAML::Node& n) {
  switch (k) {
    case Kind::kStringList: return n.IsSequence();
    case Kind::kFieldMap: return n.IsMap();
    default: return n.IsScalar();
  }
}

Status ApplyKey(Config& c, const std::string& key, const YAML::Node& n, const std::string& where) {
  auto it = Schema().find(key);
  if (it == Schema().end()) return Status::Config("unknown key '" + key + "' in " + where);
  if (!ShapeMatches(it->second.kind, n)) {
    return Status::Config("key '" + key + "' in " + where + " must be " + KindName(it->second.kind));
  }
  try {
    it->second.set(c, n);
  } catch (const YAML::Exception&) {
    std::string got = n.IsScalar() ? " (got '" + n.Scalar() + "')" : "";
    return Status::Config("key '" + key + "' in " + where + " must be " + KindName(it->second.kind) + got);
  }
  return Status::Ok();
}

Status Walk(Config& c, const YAML::Node& node, const std::string& prefix, const std::string& where) {
  // yaml-cpp keeps both entries of a key written twice and lookups see only
  // one of them: an operator who edits one copy would change nothing.
  std::map<std::string, int> line_of;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;
    const int line = kv.first.Mark().line + 1;
    auto [it, fresh] = line_of.emplace(kv.first.Scalar(), line);
    if (!fresh) {
      const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
      return Status::Config("key '" + key + "' appears twice in " + where + " (lines " +
                            std::to_string(it->second) + " and " + std::to_string(line) + ")");
    }
  }
  for (const auto& kv : node) {
    // YAML allows any node as a mapping key ("? [a, b]: 1", "{x: y}: 1"); ours are names.
    if (!kv.first.IsScalar()) {
      return Status::Config("a key " + (prefix.empty() ? std::string("at the top level") : "under '" + prefix + "'") +
                            " in " + where + " is not a name (a list or mapping used as a key)");
    }
    std::string name = kv.first.Scalar();
    std::string key = prefix.empty() ? name : prefix + "." + name;
    const YAML::Node& v = kv.second;
    bool is_leaf = Schema().count(key) > 0;
    if (!is_leaf && v.IsMap()) {
      // A section: it must be the prefix of some known key.
      bool section = std::any_of(Schema().begin(), Schema().end(),
                                 [&](const auto& e) { return e.first.rfind(key + ".", 0) == 0; });
      if (!section) return Status::Config("unknown key '" + key + "' in " + where);
      Status s = Walk(c, v, key, where);
      if (!s.ok()) return s;
      continue;
    }
    if (v.IsNull()) continue;  // "key:" with no value keeps the default
    Status s = ApplyKey(c, key, v, where);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Relative paths in the file are relative to the file, so a cron job run from
// any directory finds the same spool.
void ResolvePaths(Config& c, const fs::path& base) {
  auto fix = [&](std::string& p) {
    if (!p.empty() && fs::path(p).is_relative()) p = (base / p).lexically_normal().string();
  };
  fix(c.spool); fix(c.log.file); fix(c.fetch.path); fix(c.fetch.processed_path);
  fix(c.gmail.credentials_path); fix(c.gmail.token_path); fix(c.imap.password_file); fix(c.imap.ca_file);
  fix(c.ocr.tessdata_dir); fix(c.ocr.models_dir); fix(c.ncb.api_key_file); fix(c.ncb.ca_file);
  fix(c.archive.dir); fix(c.archive.audit_csv); fix(c.archive.drive_credentials_path);
  fix(c.archive.sheets_credentials_path); fix(c.alerts.smtp_password_file);
  fix(c.metrics.textfile_dir); fix(c.backup.dir);
  const std::string file_scheme = "file://";
  if (c.ncb.base_url.rfind(file_scheme, 0) == 0) {
    std::string p = c.ncb.base_url.substr(file_scheme.size());
    if (!p.empty() && p[0] != '/') c.ncb.base_url = file_scheme + (base / p).lexically_normal().string();
  }
}


// from_env: the keys whose value an environment variable set, and which.
Status Validate(const Config& c, const std::string& where, const std::map<std::string, std::string>& from_env) {
  auto bad = [&](const std::string& key, const std::string& why) {
    auto env = from_env.find(key);
    if (env != from_env.end()) {
      return Status::Config("environment variable " + env->second + " (key '" + key + "'): " + why);
    }
    return Status::Config("key '" + key + "' in " + where + ": " + why);
  };
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!levels.count(c.log.level)) return bad("log.level", "must be one of trace, debug, info, warn, error, off");
  if (c.spool.empty()) return bad("spool", "must not be empty");
  static const std::set<std::string> sources = {"maildir", "eml", "gmail", "imap"};
  if (!sources.count(c.fetch.source)) return bad("fetch.source", "must be maildir, eml, gmail or imap");
  if (c.fetch.on_processed != "keep" && c.fetch.on_processed != "move") {
    return bad("fetch.on_processed", "must be keep or move");
  }
  if (c.fetch.on_processed == "move" && c.fetch.processed_path.empty() && c.fetch.source != "maildir") {
    return bad("fetch.processed_path", "is required when fetch.on_processed is move");
  }
  if (c.fetch.max_attachment_bytes <= 0) return bad("fetch.max_attachment_bytes", "must be positive");
  if (c.fetch.max_message_bytes <= 0) return bad("fetch.max_message_bytes", "must be positive");
  if (c.fetch.min_image_bytes < 0) return bad("fetch.min_image_bytes", "must not be negative");
  if (c.fetch.min_image_pixels < 0) return bad("fetch.min_image_pixels", "must not be negative");
  if (c.gmail.poll_interval < 1) return bad("gmail.poll_interval", "must be at least 1 second");
  if (c.ocr.languages.empty()) return bad("ocr.languages", "must name at least one language");
  for (const auto& l : c.ocr.languages) {
    if (l.empty() || !std::all_of(l.begin(), l.end(), [](char ch) { return std::islower(static_cast<unsigned char>(ch)) || ch == '_'; })) {
      return bad("ocr.languages", "'" + l + "' is not a Tesseract language code (e.g. eng, msa, chi_sim, tam)");
    }
  }
  if (c.ocr.use_gpu != "auto" && c.ocr.use_gpu != "true" && c.ocr.use_gpu != "false") {
    return bad("ocr.use_gpu", "must be auto, true or false");
  }
  if (c.ocr.engine != "tesseract" && c.ocr.engine != "paddle" && c.ocr.engine != "tesseract+paddle" &&
      c.ocr.engine != "auto") {
    return bad("ocr.engine", "must be tesseract, paddle, tesseract+paddle or auto");
  }
  if (c.ocr.second_reading != "always" && c.ocr.second_reading != "unsettled" &&
      c.ocr.second_reading != "unsettled+header") {
    return bad("ocr.second_reading", "must be always, unsettled or unsettled+header");
  }
  if (c.ocr.batch_size < 1) return bad("ocr.batch_size", "must be at least 1");
  if (c.ocr.workers < 0 || c.ocr.workers > 256) return bad("ocr.workers", "must be 0 (one per core) to 256");
  if (c.ocr.psm < -1 || c.ocr.psm > 13) return bad("ocr.psm", "must be -1 (default) or a Tesseract page segmentation mode 0-13");
  if (c.ocr.pdf_dpi < 72 || c.ocr.pdf_dpi > 1200) return bad("ocr.pdf_dpi", "must be between 72 and 1200");
  if (!(c.ocr.upside_down_min_confidence >= 0 && c.ocr.upside_down_min_confidence <= 100)) {
    return bad("ocr.upside_down_min_confidence", "must be between 0 and 100");
  }
  if (c.ocr.max_pixels < 1) return bad("ocr.max_pixels", "must be positive");
  if (c.ocr.max_pages < 1) return bad("ocr.max_pages", "must be positive");
  if (c.ocr.max_claim_pixels < c.ocr.max_pixels) {
    return bad("ocr.max_claim_pixels", "must be at least ocr.max_pixels (a claim holds at least one page)");
  }
  if (c.ocr.max_email_pixels < c.ocr.max_claim_pixels) {
    return bad("ocr.max_email_pixels", "must be at least ocr.max_claim_pixels (an email holds at least one claim)");
  }
  if (c.ocr.worker_memory_mb < 64) return bad("ocr.worker_memory_mb", "must be at least 64");
  if (c.ocr.page_timeout < 0) return bad("ocr.page_timeout", "must be 0 (none) or a number of seconds");
  if (c.ocr.claim_timeout < 0) return bad("ocr.claim_timeout", "must be 0 (none) or a number of seconds");
  if (c.ocr.max_attempts < 1) return bad("ocr.max_attempts", "must be at least 1");
  if (c.extract.high_confidence_threshold < 0 || c.extract.high_confidence_threshold > 1) {
    return bad("extract.high_confidence_threshold", "must be between 0 and 1");
  }
  if (c.extract.review_sample_rate < 0 || c.extract.review_sample_rate > 1) {
    return bad("extract.review_sample_rate", "must be between 0 and 1");
  }
  if (c.extract.max_service_age_days < 1) return bad("extract.max_service_age_days", "must be at least 1");
  if (c.extract.member_id_patterns.empty())
    return bad("extract.member_id_patterns", "must list at least one shape");
  for (const char* key : {"extract.member_id_patterns", "extract.policy_number_patterns"}) {
    const auto& list = std::string(key) == "extract.member_id_patterns"
                           ? c.extract.member_id_patterns
                           : c.extract.policy_number_patterns;
    for (const auto& p : list) {
      if (Trim(p).empty()) return bad(key, "holds an empty pattern");
      try {
        std::regex re(p, std::regex::ECMAScript | std::regex::icase);
      } catch (const std::regex_error& e) {
        return bad(key, "'" + p + "' is not a regular expression (" + e.what() + ")");
      }
    }
  }
  if (!c.metrics.pushgateway_url.empty()) {
    Status allowed = CheckUrlAllowed(c.metrics.pushgateway_url);
    if (!allowed.ok()) return bad("metrics.pushgateway_url", allowed.message());
  }
  if (c.metrics.instance.find('/') != std::string::npos) {
    return bad("metrics.instance", "must not contain '/' (it is a path segment of the push)");
  }
  const std::string& u = c.ncb.base_url;
  if (!u.empty()) {
    if (u.rfind("file://", 0) == 0) {
      if (u.size() <= 7) return bad("ncb.base_url", "file:// needs a directory");
    } else if (u.rfind("https://", 0) == 0) {
      // fine
    } else if (u.rfind("http://", 0) == 0) {
      if (!IsLoopbackUrl(u)) return bad("ncb.base_url", "plain http:// is allowed only for loopback hosts; use https://");
    } else {
      return bad("ncb.base_url", "must start with https://, http:// (loopback only) or file://");
    }
  }
  if (c.ncb.connect_timeout < 1 || c.ncb.timeout < 1) return bad("ncb.timeout", "timeouts must be at least 1 second");
  if (c.ncb.max_attempts < 1) return bad("ncb.max_attempts", "must be at least 1");
  static const std::set<std::string> fields = {
      "service_date", "submission_date", "total_amount", "receipt_number", "policy_number",
      "member_id", "member_name", "provider_name", "provider_address", "currency", "sst_amount",
      "gst_amount", "source_email_id", "source_filename", "confidence", "claim_id"};
  if (c.ncb.field_map.empty()) return bad("ncb.field_map", "must map at least one field");
  for (const auto& [ncb_name, field] : c.ncb.field_map) {
    size_t start = 0;
    while (true) {
      size_t bar = field.find('|', start);
      std::string f = field.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
      if (!fields.count(f)) {
        return bad("ncb.field_map", "'" + ncb_name + "' maps to unknown claim field '" + f + "'");
      }
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
  }
  if (c.alerts.enabled) {
    if (c.alerts.smtp_host.empty()) return bad("alerts.smtp_host", "is required when alerts are enabled");
    if (c.alerts.recipients.empty()) return bad("alerts.recipients", "is required when alerts are enabled");
  }
  if (c.alerts.smtp_port < 1 || c.alerts.smtp_port > 65535) return bad("alerts.smtp_port", "must be a TCP port");
  if (c.backup.keep_days < 1) return bad("backup.keep_days", "must be at least 1");
  for (const auto& [stage, secs] : c.health.stage_interval) {
    if (secs < 60) return bad("health.stage_interval." + stage, "must be at least 60 seconds");
  }
  if (c.health.max_backlog < 1) return bad("health.max_backlog", "must be at least 1");
  if (c.health.max_review < 1) return bad("health.max_review", "must be at least 1");
  if (c.health.max_consecutive_failures < 1) return bad("health.max_consecutive_failures", "must be at least 1");
  if (c.health.max_claim_attempts < 1) return bad("health.max_claim_attempts", "must be at least 1");
  if (c.health.min_free_percent < 0 || c.health.min_free_percent > 100) {
    return bad("health.min_free_percent", "must be between 0 and 100");
  }
  return Status::Ok();
}

std::string FormatMode(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

}  // namespace

std::optional<std::string> ProcessEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string DefaultConfigPath(EnvLookup env) {
  if (auto p = env("NCBOCR_CONFIG"); p && !p->empty()) return *p;
  std::error_code ec;
  if (fs::exists("/etc/ncbocr/ncbocr.yaml", ec)) return "/etc/ncbocr/ncbocr.yaml";
  return "";
}

Result<Config> LoadConfig(const std::string& path, const ConfigOverrides& overrides, EnvLookup env) {
  Config c;
  if (!path.empty()) {
    c.source_file = path;
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
      return Status::Config("cannot read configuration file " + path);
    } catch (const YAML::Exception& e) {
      return Status::Config("configuration file " + path + " is not valid YAML: " + e.what());
    }
    if (!root.IsNull()) {
      if (!root.IsMap()) return Status::Config("configuration file " + path + " must be a YAML mapping");
      Status s = Status::Ok();
      try {
        s = Walk(c, root, "", path);
      } catch (const YAML::Exception& e) {
        // Every value is checked by ApplyKey; this is the net for a shape it did not expect.
        return Status::Config("configuration file " + path + " could not be read: " + e.what());
      }
      if (!s.ok()) return s;
    }
    ResolvePaths(c, fs::absolute(path).parent_path());
    bool inline_secret = !c.ncb.api_key.empty() || !c.alerts.smtp_password.empty();
    struct stat st{};
    if (inline_secret && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      return Status::Config("configuration file " + path + " holds secrets but its permissions " +
                            FormatMode(st.st_mode) + " let others read it; run: chmod 600 " + path);
    }
  }
  std::map<std::string, std::string> from_env;
  for (const auto& [name, key] : EnvNames()) {
    auto v = env(name);
    if (!v) continue;
    from_env[key] = name;
    std::string where = "environment variable " + std::string(name);
    const Key& k = Schema().at(key);
    YAML::Node n;
    if (k.kind == Kind::kStringList) {
      n = YAML::Node(YAML::NodeType::Sequence);
      std::string item;
      for (char ch : *v + ",") {
        if (ch == ',') {
          if (!Trim(item).empty()) n.push_back(Trim(item));
          item.clear();
        } else {
          item.push_back(ch);
        }
      }
    } else if (k.kind == Kind::kBool && (*v == "1" || *v == "0")) {
      n = YAML::Node(*v == "1" ? "true" : "false");
    } else {
      n = YAML::Node(*v);
    }
    Status s = ApplyKey(c, key, n, where);
    if (!s.ok()) return s;
  }
  if (overrides.spool) c.spool = *overrides.spool;
  if (overrides.log_level) c.log.level = *overrides.log_level;
  c.log.level = AsciiLower(c.log.level);  // LOG_LEVEL=INFO, as other tools take it
  Status s = Validate(c, path.empty() ? "the configuration" : path, from_env);
  if (!s.ok()) return s;
  return c;
}

Status CheckSecretFile(const std::string& path, const std::string& what) {
  if (path.empty()) return Status::Config("no file configured for " + what);
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Config(what + " file " + path + " does not exist or cannot be read");
  }
  if (!S_ISREG(st.st_mode)) return Status::Config(what + " file " + path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return Status::Credentials(what + " file " + path + " has permissions " + FormatMode(st.st_mode) +
                               ", too open for a secret (group or others can access it); run: chmod 600 " + path);
  }
  return Status::Ok();
}

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  Status s = CheckSecretFile(path, what);
  if (!s.ok()) return s;
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  std::string v = *bytes;
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

}  // namespace ncbocr
