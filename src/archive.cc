#include "ncbocr/archive.h"

#include <ctime>

#include "ncbocr/email.h"
#include "ncbocr/google_archive.h"
#include "ncbocr/ncb.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

std::string SafeComponent(const std::string& s) {
  std::string out;
  for (char ch : s) {
    unsigned char u = static_cast<unsigned char>(ch);
    out.push_back(std::isalnum(u) || ch == '-' || ch == '_' || ch == '.' ? ch : '_');
  }
  while (!out.empty() && out[0] == '.') out.erase(0, 1);
  if (out.size() > 80) out.resize(80);
  return out.empty() ? "email" : out;
}

std::string FieldValue(const Spool& spool, const Claim& c, const std::string& name) {
  auto v = LoadClaimValues(spool, c);
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

std::string ClaimDay(const Claim& c) {
  auto t = ParseIso(c.created_at).value_or(std::chrono::system_clock::now());
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y/%m/%d", &tm);
  return day;
}

std::string ArchivePath(const ArchiveConfig& config, const Claim& c) {
  std::string day = ClaimDay(c);
  std::string name = SafeComponent(c.source.email_id) + "_" +
                     (c.attachment ? c.attachment->filename : std::string("no-attachment"));
  return (fs::path(config.dir) / "claims" / day / name).string();
}

namespace {

// Drive and Sheets for one claim. Credentials refused stop the stage (every
// claim stays submitted); anything else retries this claim later.
Disposition ToGoogle(StageContext& ctx, GoogleSinks& google, Claim& c, std::string& link) {
  auto fail = [&](const Status& s) {
    if (s.kind() == ErrorKind::kCredentials || s.kind() == ErrorKind::kConfig) {
      Disposition d;
      d.next = c.state;
      d.stop = s;
      return d;
    }
    return Disposition::Retry(Backoff(c.attempts + 1), s.message());
  };
  if (google.drive() && c.attachment) {
    auto bytes = ctx.spool.ReadClaimFile(c, c.attachment->stored_name);
    if (!bytes.ok()) return Disposition::Retry(Backoff(c.attempts + 1), bytes.status().message());
    auto file = google.drive()->Upload(c, *bytes, ctx.clock.Now());
    if (!file.ok()) return fail(file.status());
    link = file->link;
    c.notes["drive_file_id"] = file->id;
  }
  Status s = google.RecordAudit(ctx.spool, c, "submitted", link, ctx.clock.Now());
  if (!s.ok()) return fail(s);
  return Disposition::To(ClaimState::kDone, "archived");
}

}  // namespace

StageReport ArchiveClaims(StageContext& ctx) { return ArchiveClaims(ctx, nullptr); }

StageReport ArchiveClaims(StageContext& ctx, GoogleSinks* google) {
  const ArchiveConfig& cfg = ctx.config.archive;
  return ForEachClaim(ctx, ClaimState::kSubmitted, 8, [&](Claim& c) {
    std::string dest;
    if (c.attachment && !cfg.dir.empty()) {
      dest = ArchivePath(cfg, c);
      auto bytes = ctx.spool.ReadClaimFile(c, c.attachment->stored_name);
      if (!bytes.ok()) return Disposition::Retry(Backoff(c.attempts + 1), bytes.status().message());
      std::error_code ec;
      if (fs::exists(dest, ec)) {
        auto there = ReadFile(dest);
        // Another receipt with the same email id and name: keep both.
        if (!there.ok() || Sha256Hex(*there) != c.attachment->sha256) {
          fs::path p(dest);
          dest = (p.parent_path() / (p.stem().string() + "-" + c.id + p.extension().string())).string();
        }
      }
      if (!fs::exists(dest, ec)) {
        Status s = MakeDirs(fs::path(dest).parent_path(), 0700);
        if (s.ok()) s = AtomicWriteFile(dest, *bytes, 0600);
        if (!s.ok()) return Disposition::Retry(Backoff(c.attempts + 1), s.message());
      }
    }
    std::string link = dest;
    if (google) {
      Disposition d = ToGoogle(ctx, *google, c, link);
      if (d.next != ClaimState::kDone) return d;
    }
    if (!cfg.audit_csv.empty()) {
      Status s = AppendAuditCsv(cfg.audit_csv, AuditRow(ctx.spool, c, "submitted", link, ctx.clock.Now()));
      if (!s.ok()) return Disposition::Retry(Backoff(c.attempts + 1), s.message());
    }
    c.archived_path = link;
    return Disposition::To(ClaimState::kDone, "archived");
  });
}

StageReport RunArchiveStage(StageContext& ctx) {
  const ArchiveConfig& cfg = ctx.config.archive;
  StageReport r;
  if (cfg.dir.empty() && cfg.drive_folder_id.empty()) {
    r.status = Status::Config("no archive configured: set archive.dir (and archive.audit_csv), "
                              "or archive.drive_folder_id (and archive.sheets_spreadsheet_id)");
    ctx.log->error("{}", r.status.message());
    return r;
  }
  std::unique_ptr<GoogleSinks> google;
  if (GoogleArchiveConfigured(cfg)) {
    auto opened = GoogleSinks::Open(ctx.config, ctx.spool, ctx.clock, ctx.log);
    if (!opened.ok()) {
      r.status = opened.status();
      ctx.log->error("{}", r.status.message());
      return r;
    }
    google = std::move(*opened);
  }
  return RunStage(ctx, [&] { return ArchiveClaims(ctx, google.get()); });
}

}  // namespace ncbocr
