// The archive stage: submitted claims get their original filed and an audit
// row, then are done.
//
// Local sink: archive.dir/claims/YYYY/MM/DD/{email_id}_{name} and a CSV audit
// log (archive.audit_csv) with the same columns the Google Sheets audit log
// has (audit.h). Google sinks (google_archive.h), when configured: the
// original goes to Drive (archive.drive_folder_id) and the claim's row in the
// Sheet (archive.sheets_spreadsheet_id) is updated to "submitted" with the
// Drive link. Any of the four may be configured alone. Every write is
// idempotent: a redo after a crash finds the file and the row already there
// and adds neither.
#ifndef NCBOCR_ARCHIVE_STAGE_H_
#define NCBOCR_ARCHIVE_STAGE_H_

#include <string>
#include <vector>

#include "ncbocr/stage.h"

namespace ncbocr {

// archive.dir/claims/YYYY/MM/DD/<email id>_<file name> for claim c.
std::string ArchivePath(const ArchiveConfig& config, const Claim& c);

class GoogleSinks;

// Archives every submitted claim. No lock: see RunArchiveStage. google may be
// null (local sinks only). Per claim: the original is filed (archive.dir,
// then Drive), then the final audit row goes to every sink (audit.h); a
// file or sink that fails for this claim defers it with backoff (failed
// after 8 attempts) and the others go on. Errors (StageReport::status):
// kCredentials or kConfig from Drive or the Sheet stop the run at once and
// every claim stays submitted; otherwise as ForEachClaim (stage.h).
StageReport ArchiveClaims(StageContext& ctx);
StageReport ArchiveClaims(StageContext& ctx, GoogleSinks* google);
// Checks the configuration and runs the stage under its lock. Errors: kConfig
// when no archive is configured (neither archive.dir nor
// archive.drive_folder_id) or a Google sink is half-configured;
// kCredentials when a service account key file is unsafe or unusable; then
// as ArchiveClaims and RunStage.
StageReport RunArchiveStage(StageContext& ctx);

}  // namespace ncbocr

#endif  // NCBOCR_ARCHIVE_STAGE_H_
