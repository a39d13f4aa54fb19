#include "ncbocr/archive_stage.h"

#include <ctime>

#include "ncbocr/audit.h"
#include "ncbocr/google_archive.h"
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

}  // namespace

std::string ArchivePath(const ArchiveConfig& config, const Claim& c) {
  std::string day = ClaimDay(c);
  std::string name = SafeComponent(c.source.email_id) + "_" +
                     (c.attachment ? c.attachment->filename : std::string("no-attachment"));
  return (fs::path(config.dir) / "claims" / day / name).string();
}

namespace {

// A sink's failure: credentials or configuration refused stop the stage
// (every claim stays submitted); anything else retries this claim later.
Disposition Failed(const Claim& c, const Status& s) {
  if (s.kind() == ErrorKind::kCredentials || s.kind() == ErrorKind::kConfig) {
    Disposition d;
    d.next = c.state;
    d.stop = s;
    return d;
  }
  return Disposition::Retry(Backoff(c.attempts + 1), s.message());
}

}  // namespace

StageReport ArchiveClaims(StageContext& ctx) { return ArchiveClaims(ctx, nullptr); }

StageReport ArchiveClaims(StageContext& ctx, GoogleSinks* google) {
  const ArchiveConfig& cfg = ctx.config.archive;
  AuditLog audit(ctx.spool);
  if (google) audit.Add(google->audit());
  std::unique_ptr<AuditSink> csv;
  if (!cfg.audit_csv.empty()) {
    csv = MakeCsvAuditSink(cfg.audit_csv);
    audit.Add(csv.get());
  }
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
    if (google && google->drive() && c.attachment) {
      auto bytes = ctx.spool.ReadClaimFile(c, c.attachment->stored_name);
      if (!bytes.ok()) return Disposition::Retry(Backoff(c.attempts + 1), bytes.status().message());
      auto file = google->drive()->Upload(c, *bytes, ctx.clock.Now());
      if (!file.ok()) return Failed(c, file.status());
      link = file->link;
      c.notes["drive_file_id"] = file->id;
    }
    Status s = audit.RecordFinal(c, "submitted", link, ctx.clock.Now());
    if (!s.ok()) return Failed(c, s);
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
