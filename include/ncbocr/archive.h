// The archive stage: submitted claims get their original filed and an audit
// row, then are done.
//
// Local sink: archive.dir/claims/YYYY/MM/DD/{email_id}_{name} and a CSV audit
// log (archive.audit_csv) with the same columns the Google Sheets audit log
// has (AuditColumns). Google sinks (google_archive.h), when configured: the
// original goes to Drive (archive.drive_folder_id) and the claim's row in the
// Sheet (archive.sheets_spreadsheet_id) is updated to "submitted" with the
// Drive link. Any of the four may be configured alone. Every write is
// idempotent: a redo after a crash finds the file and the row already there
// and adds neither.
#ifndef NCBOCR_ARCHIVE_H_
#define NCBOCR_ARCHIVE_H_

#include <string>
#include <vector>

#include "ncbocr/stage.h"

namespace ncbocr {

// Column names of the audit log, in order.
const std::vector<std::string>& AuditColumns();

// The audit row of a claim (values in AuditColumns order).
std::vector<std::string> AuditRow(const Spool& spool, const Claim& c, const std::string& status,
                                  const std::string& archived_link, TimePoint now);

// One CSV field: quoted when needed; a leading = + - @ is neutralised so a
// spreadsheet never evaluates a cell as a formula.
std::string CsvField(const std::string& v);

// Appends row to the CSV at path (header first if new) unless a row for the
// same claim id (column 2) is already there.
Status AppendAuditCsv(const std::string& path, const std::vector<std::string>& row);

// The day folder of a claim, "YYYY/MM/DD" (local date it was fetched): the
// same for the local archive and Google Drive.
std::string ClaimDay(const Claim& c);

// archive.dir/claims/YYYY/MM/DD/<email id>_<file name> for claim c.
std::string ArchivePath(const ArchiveConfig& config, const Claim& c);

class GoogleSinks;

// Archives every submitted claim. No lock: see RunArchiveStage. google may be
// null (local sinks only).
StageReport ArchiveClaims(StageContext& ctx);
StageReport ArchiveClaims(StageContext& ctx, GoogleSinks* google);
// Checks the configuration and runs the stage under its lock.
StageReport RunArchiveStage(StageContext& ctx);

}  // namespace ncbocr

#endif  // NCBOCR_ARCHIVE_H_
