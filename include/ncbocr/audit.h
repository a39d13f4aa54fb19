// Audit: the record of what happened to each claim, one row per claim, kept
// in a local CSV (archive.audit_csv) and/or a Google Sheet
// (archive.sheets_spreadsheet_id, google_archive.h), with the same columns.
//
// Two stages write it through one interface (AuditLog): the extract stage
// records "ready"/"review" as soon as a claim is read, so the Sheet shows the
// claim while NCB is down, and the archive stage records the final
// "submitted" row with the archived link. A sink that replaces a claim's row
// (the Sheet) takes both; the append-only CSV takes only final statuses, so
// its one row per claim is the final one.
#ifndef NCBOCR_AUDIT_H_
#define NCBOCR_AUDIT_H_

#include <memory>
#include <string>
#include <vector>

#include "ncbocr/claim.h"
#include "ncbocr/clock.h"
#include "ncbocr/spool.h"
#include "ncbocr/status.h"

namespace ncbocr {

// Column names of the audit log, in order.
const std::vector<std::string>& AuditColumns();

// The audit row of a claim (values in AuditColumns order). Never fails: a
// value that cannot be read (no extract.json yet) is left empty.
std::vector<std::string> AuditRow(const Spool& spool, const Claim& c, const std::string& status,
                                  const std::string& archived_link, TimePoint now);

// One CSV field: quoted when needed; a leading = + - @ is neutralised so a
// spreadsheet never evaluates a cell as a formula.
std::string CsvField(const std::string& v);

// Appends row to the CSV at path (header first if new) unless a row for the
// same claim id (column 2) is already there. The file is rewritten whole and
// renamed into place, mode 0600. Errors: the file's read or write error.
Status AppendAuditCsv(const std::string& path, const std::vector<std::string>& row);

// Where audit rows go.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Writes the claim's row; idempotent (a redo after a crash adds no second
  // row). kCredentials or kConfig: the sink cannot work at all (a caller
  // with many claims stops); any other error: this row, try again later.
  virtual Status Record(const Claim& c, const std::vector<std::string>& row) = 0;
  // True when a later Record replaces the claim's row; false when the first
  // row stays for good.
  virtual bool ReplacesRows() const = 0;
};

// The CSV file at path as a sink (AppendAuditCsv).
std::unique_ptr<AuditSink> MakeCsvAuditSink(const std::string& path);

// The sinks one stage writes to. Does not own them.
class AuditLog {
 public:
  explicit AuditLog(const Spool& spool) : spool_(spool) {}
  void Add(AuditSink* sink);  // null is ignored
  bool empty() const { return sinks_.empty(); }
  // A status on the way ("ready", "review"): only to sinks that replace rows.
  Status RecordProgress(const Claim& c, const std::string& status, TimePoint now) const {
    return Record(c, status, "", now, false);
  }
  // The final status ("submitted") with the archived link: to every sink.
  // Stops at the first sink that fails and returns its error.
  Status RecordFinal(const Claim& c, const std::string& status, const std::string& link, TimePoint now) const {
    return Record(c, status, link, now, true);
  }

 private:
  Status Record(const Claim& c, const std::string& status, const std::string& link, TimePoint now,
                bool final_status) const;
  const Spool& spool_;
  std::vector<AuditSink*> sinks_;
};

}  // namespace ncbocr

#endif  // NCBOCR_AUDIT_H_
