#include "ncbocr/audit.h"

#include <cstdio>
#include <filesystem>

#include "ncbocr/email.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace fs = std::filesystem;

namespace {

std::string FieldValue(const Spool& spool, const Claim& c, const std::string& name) {
  auto v = spool.LoadClaimValues(c);
  if (!v.ok()) return "";
  auto it = v->fields.find(name);
  return it == v->fields.end() ? "" : it->second;
}

// Splits one CSV line's first two fields cheaply (claim id is the second).
std::string SecondField(const std::string& line) {
  size_t i = 0;
  int field = 0;
  std::string cur;
  bool quoted = false;
  while (i < line.size()) {
    char ch = line[i++];
    if (quoted) {
      if (ch == '"' && i < line.size() && line[i] == '"') {
        cur.push_back('"');
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cur.push_back(ch);
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      if (field == 1) return cur;
      ++field;
      cur.clear();
    } else {
      cur.push_back(ch);
    }
  }
  return field == 1 ? cur : "";
}

}  // namespace

const std::vector<std::string>& AuditColumns() {
  static const std::vector<std::string> cols = {
      "processed_at", "claim_id", "email_id",      "sender",  "file_name",
      "member_id",    "provider", "service_date",  "total",   "confidence",
      "status",       "ncb_reference", "submitted_at", "drive_link", "note"};
  return cols;
}

std::vector<std::string> AuditRow(const Spool& spool, const Claim& c, const std::string& status,
                                  const std::string& archived_link, TimePoint now) {
  std::string sender;
  if (auto e = spool.ReadClaimFile(c, "email.json"); e.ok()) {
    try {
      if (auto info = EmailInfo::FromJson(nlohmann::json::parse(*e)); info.ok()) sender = info->from_address;
    } catch (const nlohmann::json::exception&) {
    }
  }
  char conf[16] = "";
  if (c.confidence) std::snprintf(conf, sizeof conf, "%.3f", *c.confidence);
  return {IsoUtc(now),
          c.id,
          c.source.email_id,
          sender,
          AttachmentLabel(c),
          FieldValue(spool, c, "member_id"),
          FieldValue(spool, c, "provider_name"),
          FieldValue(spool, c, "service_date"),
          FieldValue(spool, c, "total_amount"),
          conf,
          status,
          c.ncb_reference,
          c.submitted_at,
          archived_link,
          c.reason};
}

std::string CsvField(const std::string& v) {
  std::string s = v;
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) s = "'" + s;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  return out + "\"";
}

Status AppendAuditCsv(const std::string& path, const std::vector<std::string>& row) {
  std::string existing;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto bytes = ReadFile(path);
    if (!bytes.ok()) return bytes.status();
    existing = *bytes;
    size_t start = 0;
    while (start < existing.size()) {
      size_t end = existing.find('\n', start);
      if (end == std::string::npos) end = existing.size();
      if (row.size() > 1 && SecondField(existing.substr(start, end - start)) == row[1]) {
        return Status::Ok();  // already logged
      }
      start = end + 1;
    }
  } else {
    Status s = MakeDirs(fs::path(path).parent_path(), 0700);
    if (!s.ok()) return s;
    for (size_t i = 0; i < AuditColumns().size(); ++i) {
      existing += (i ? "," : "") + AuditColumns()[i];
    }
    existing += "\n";
  }
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) line += (i ? "," : "") + CsvField(row[i]);
  // Rewritten whole and renamed into place: a crash never leaves half a row.
  return AtomicWriteFile(path, existing + line + "\n", 0600);
}

namespace {

// The local CSV: append-only, so it takes final statuses only.
class CsvAuditSink : public AuditSink {
 public:
  explicit CsvAuditSink(std::string path) : path_(std::move(path)) {}
  Status Record(const Claim&, const std::vector<std::string>& row) override { return AppendAuditCsv(path_, row); }
  bool ReplacesRows() const override { return false; }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<AuditSink> MakeCsvAuditSink(const std::string& path) {
  return std::make_unique<CsvAuditSink>(path);
}

void AuditLog::Add(AuditSink* sink) {
  if (sink) sinks_.push_back(sink);
}

Status AuditLog::Record(const Claim& c, const std::string& status, const std::string& link, TimePoint now,
                        bool final_status) const {
  std::vector<std::string> row;
  for (AuditSink* sink : sinks_) {
    if (!final_status && !sink->ReplacesRows()) continue;
    if (row.empty()) row = AuditRow(spool_, c, status, link, now);
    Status s = sink->Record(c, row);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace ncbocr
