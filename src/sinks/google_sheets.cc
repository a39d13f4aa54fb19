// The audit log in a Google Sheet (see google_archive.h).
#include <ctime>

#include "ncbocr/google_archive.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using json = nlohmann::json;

// A1 notation for a tab: always quoted, since "2024-12" would otherwise read
// as a formula-like reference.
std::string TabRange(const std::string& tab, const std::string& cells) {
  std::string quoted = "'";
  for (char c : tab) {
    if (c == '\'') quoted.push_back('\'');
    quoted.push_back(c);
  }
  return quoted + "'!" + cells;
}

std::string LastColumn() {
  size_t n = AuditColumns().size();  // 15 -> "O"; the log stays under 26 columns
  return std::string(1, static_cast<char>('A' + n - 1));
}

Result<json> Parse(const HttpResponse& r, const std::string& what) {
  try {
    return json::parse(r.body);
  } catch (const json::exception&) {
    return Status::Transient(what + ": Sheets answered with invalid JSON");
  }
}

}  // namespace

std::string AuditTab(const Claim& c) {
  return FormatLocal(ParseIso(c.created_at).value_or(std::chrono::system_clock::now()), "%Y-%m");
}

Status SheetsAuditLog::Record(const Claim& c, const std::vector<std::string>& row) {
  return Record(AuditTab(c), row);
}

SheetsAuditLog::SheetsAuditLog(const ArchiveConfig& config, HttpClient& http, TokenSource& tokens,
                               HttpOptions options, Logger log)
    : config_(config), http_(http), tokens_(tokens), options_(std::move(options)),
      log_(std::move(log)) {}

std::string SheetsAuditLog::Url(const std::string& path) const {
  std::string base = config_.sheets_api_base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/v4/spreadsheets/" + UrlEncode(config_.sheets_spreadsheet_id) + path;
}

Result<HttpResponse> SheetsAuditLog::Call(const std::string& method, const std::string& path,
                                          const std::string& body, bool retry) {
  HttpRequest req;
  req.method = method;
  req.url = Url(path);
  req.headers = {{"Accept", "application/json"}};
  if (!body.empty()) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body;
  }
  HttpOptions o = options_;
  if (!retry) o.max_attempts = 1;
  return GoogleSend(http_, tokens_, req, o, log_);
}

Status SheetsAuditLog::EnsureTab(const std::string& tab) {
  if (ready_tabs_.count(tab)) return Status::Ok();
  auto resp = Call("GET", "?fields=" + UrlEncode("sheets.properties.title"), "");
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return GoogleError(*resp, "Sheets spreadsheets.get");
  auto j = Parse(*resp, "Sheets spreadsheets.get");
  if (!j.ok()) return j.status();
  bool exists = false;
  if (auto sheets = j->find("sheets"); sheets != j->end() && sheets->is_array()) {
    for (const auto& s : *sheets) {
      // Read step by step: any field may have another type, and that must
      // not throw out of here (json::value would).
      if (!s.is_object()) continue;
      auto props = s.find("properties");
      if (props == s.end() || !props->is_object()) continue;
      auto title = props->find("title");
      if (title != props->end() && title->is_string() && title->get<std::string>() == tab) exists = true;
    }
  }
  if (!exists) {
    json add = {{"requests", {{{"addSheet", {{"properties", {{"title", tab}}}}}}}}};
    auto r = Call("POST", ":batchUpdate", add.dump());
    if (!r.ok()) return r.status();
    // 400 "already exists": another process added it first, which is fine.
    bool raced = r->status == 400 && r->body.find("already exists") != std::string::npos;
    if (r->status != 200 && !raced) return GoogleError(*r, "Sheets addSheet " + tab);
    if (!raced) log_->info("Sheets: added tab {}", tab);
  }
  std::string header_range = TabRange(tab, "A1:" + LastColumn() + "1");
  auto head = Call("GET", "/values/" + UrlEncode(header_range), "");
  if (!head.ok()) return head.status();
  if (head->status != 200) return GoogleError(*head, "Sheets values.get (header)");
  auto hj = Parse(*head, "Sheets values.get");
  if (!hj.ok()) return hj.status();
  if (!hj->contains("values") || !(*hj)["values"].is_array() || (*hj)["values"].empty()) {
    json body = {{"range", header_range}, {"majorDimension", "ROWS"}, {"values", {AuditColumns()}}};
    auto w = Call("PUT", "/values/" + UrlEncode(header_range) + "?valueInputOption=RAW", body.dump());
    if (!w.ok()) return w.status();
    if (w->status != 200) return GoogleError(*w, "Sheets values.update (header)");
  }
  ready_tabs_.insert(tab);
  return Status::Ok();
}

Result<int> SheetsAuditLog::FindRow(const std::string& tab, const std::string& claim_id) {
  auto resp = Call("GET", "/values/" + UrlEncode(TabRange(tab, "B:B")) + "?majorDimension=ROWS", "");
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return GoogleError(*resp, "Sheets values.get (claim ids)");
  auto j = Parse(*resp, "Sheets values.get");
  if (!j.ok()) return j.status();
  auto values = j->find("values");
  if (values == j->end() || !values->is_array()) return 0;
  for (size_t i = 1; i < values->size(); ++i) {  // row 1 is the header
    const json& row = (*values)[i];
    if (row.is_array() && !row.empty() && row[0].is_string() && row[0].get<std::string>() == claim_id) {
      return static_cast<int>(i + 1);
    }
  }
  return 0;
}

Status SheetsAuditLog::Record(const std::string& tab, const std::vector<std::string>& row) {
  if (row.size() < 2 || row[1].empty()) return Status::Internal("audit row without a claim id");
  Status s = EnsureTab(tab);
  if (!s.ok()) return s;
  Status last;
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    auto at = FindRow(tab, row[1]);
    if (!at.ok()) return at.status();
    if (*at > 0) {
      std::string range = TabRange(tab, "A" + std::to_string(*at) + ":" + LastColumn() + std::to_string(*at));
      json body = {{"range", range}, {"majorDimension", "ROWS"}, {"values", {row}}};
      auto w = Call("PUT", "/values/" + UrlEncode(range) + "?valueInputOption=RAW", body.dump());
      if (!w.ok()) return w.status();
      if (w->status == 200) return Status::Ok();
      return GoogleError(*w, "Sheets values.update");  // already retried with backoff
    }
    std::string range = TabRange(tab, "A:" + LastColumn());
    json body = {{"range", range}, {"majorDimension", "ROWS"}, {"values", {row}}};
    auto w = Call("POST", "/values/" + UrlEncode(range) +
                              ":append?valueInputOption=RAW&insertDataOption=INSERT_ROWS",
                  body.dump(), /*retry=*/false);
    if (!w.ok()) return w.status();
    if (w->status == 200) return Status::Ok();
    last = GoogleError(*w, "Sheets values.append");
    if (!IsRetryable(*w)) return last;
    // The row may have landed even though the answer did not: look again first.
    log_->warn("claim {}: Sheets append attempt {} failed: {}", row[1], attempt, last.message());
    PauseBeforeRetry(attempt, *w, options_);
  }
  return last;
}

}  // namespace ncbocr
