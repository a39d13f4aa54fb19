// Google archive sinks: the original of each claim filed in Google Drive, and
// the audit log kept in a Google Sheet, for the archive stage (archive.h) and
// for any stage that records a claim's progress in the audit log.
//
// Drive: files go to claims/YYYY/MM/DD (the claim's creation day, local time)
// under archive.drive_folder_id, named {email_id}_{file name}, with
// appProperties ncbocr_claim_id, ncbocr_email_id and ncbocr_processed_at.
// Folders are looked up by name and parent, or created; two processes that
// create the same folder at once both settle on the oldest one, and the ids
// are cached in the spool (index/drive/). Files up to 5 MiB go up in one
// multipart request, larger ones through a resumable session. An upload is
// idempotent: before each attempt Drive is searched for a file whose
// ncbocr_claim_id is the claim's, so an upload whose answer was lost is found,
// not repeated. Every call says supportsAllDrives=true, because the folder
// must be in a shared drive: a service account has no storage quota of its
// own and Drive refuses files it would own in "My Drive".
//
// Sheets: one tab per month ("YYYY-MM", the claim's creation month), created
// on demand with a header row (AuditColumns). A claim has one row, found by
// its id in column B: updated in place when it exists, appended when not.
// Values are always sent with valueInputOption=RAW, so nothing a member
// wrote is ever evaluated as a formula. An append is never retried blindly:
// after a failed attempt the column is searched again first, so a lost
// answer never leaves two rows.
#ifndef NCBOCR_GOOGLE_ARCHIVE_H_
#define NCBOCR_GOOGLE_ARCHIVE_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ncbocr/audit.h"
#include "ncbocr/claim.h"
#include "ncbocr/clock.h"
#include "ncbocr/config.h"
#include "ncbocr/google_auth.h"
#include "ncbocr/http.h"
#include "ncbocr/spool.h"

namespace ncbocr {

struct DriveFile {
  std::string id;
  std::string link;  // webViewLink
};

class DriveArchive {
 public:
  DriveArchive(const ArchiveConfig& config, const Spool& spool, HttpClient& http,
               TokenSource& tokens, HttpOptions options, Logger log);
  // Files the claim's original (bytes) into its day folder, or finds it there.
  Result<DriveFile> Upload(const Claim& c, const std::string& bytes, TimePoint now);
  // The id of claims/YYYY/MM/DD for the claim, creating folders as needed.
  Result<std::string> DayFolder(const Claim& c);
  // The file a claim was uploaded as, if any.
  Result<std::optional<DriveFile>> FindByClaim(const std::string& claim_id);

  size_t resumable_threshold = 5 * 1024 * 1024;  // bytes; larger: resumable upload
  size_t chunk_size = 8 * 1024 * 1024;           // resumable chunk, a multiple of 256 KiB

 private:
  Result<std::string> ChildFolder(const std::string& parent, const std::string& name);
  Result<std::optional<std::string>> OldestFolder(const std::string& parent, const std::string& name);
  Result<DriveFile> Multipart(const std::string& meta, const std::string& type, const std::string& bytes);
  Result<DriveFile> Resumable(const std::string& meta, const std::string& type, const std::string& bytes);
  Result<HttpResponse> Call(const HttpRequest& req, bool retry = true);
  std::string Api(const std::string& path) const;

  const ArchiveConfig& config_;
  const Spool& spool_;
  HttpClient& http_;
  TokenSource& tokens_;
  HttpOptions options_;
  Logger log_;
};

class SheetsAuditLog : public AuditSink {
 public:
  SheetsAuditLog(const ArchiveConfig& config, HttpClient& http, TokenSource& tokens,
                 HttpOptions options, Logger log);
  // Writes row (AuditColumns order, claim id in column B) into tab: updates
  // the claim's row if there is one, else appends it.
  Status Record(const std::string& tab, const std::vector<std::string>& row);
  // AuditSink: the claim's row in its month's tab (AuditTab).
  Status Record(const Claim& c, const std::vector<std::string>& row) override;
  bool ReplacesRows() const override { return true; }
  // Makes sure the tab exists and has the header row.
  Status EnsureTab(const std::string& tab);
  // The 1-based row holding claim_id in column B, 0 if none.
  Result<int> FindRow(const std::string& tab, const std::string& claim_id);

 private:
  Result<HttpResponse> Call(const std::string& method, const std::string& path,
                            const std::string& body, bool retry = true);
  std::string Url(const std::string& path) const;

  const ArchiveConfig& config_;
  HttpClient& http_;
  TokenSource& tokens_;
  HttpOptions options_;
  Logger log_;
  std::set<std::string> ready_tabs_;  // checked this run
};

// "YYYY-MM" of the claim's creation (local time): its audit log tab.
std::string AuditTab(const Claim& c);

// The Google sinks the configuration asks for, with the HTTP client and the
// service account token sources they use. drive() / sheets() are null when
// that sink is not configured.
class GoogleSinks {
 public:
  // config and spool must outlive the sinks.
  // kConfig when a sink is half-configured (an id without a key file, a URL
  // that is not https); kCredentials when a key file is unsafe or unusable.
  static Result<std::unique_ptr<GoogleSinks>> Open(const Config& config, const Spool& spool,
                                                   const Clock& clock, Logger log);
  DriveArchive* drive() { return drive_.get(); }
  SheetsAuditLog* sheets() { return sheets_.get(); }
  // The Sheet as an audit sink; null when no Sheet is configured.
  AuditSink* audit() { return sheets_.get(); }

 private:
  GoogleSinks() = default;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<TokenSource> drive_tokens_;
  std::unique_ptr<TokenSource> sheets_tokens_;
  std::unique_ptr<DriveArchive> drive_;
  std::unique_ptr<SheetsAuditLog> sheets_;
};

// True when archive.drive_folder_id or archive.sheets_spreadsheet_id is set.
bool GoogleArchiveConfigured(const ArchiveConfig& config);

}  // namespace ncbocr

#endif  // NCBOCR_GOOGLE_ARCHIVE_H_
