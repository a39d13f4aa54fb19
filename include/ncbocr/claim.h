// Claim: one receipt attachment of one email, as recorded in the spool.
//
// A claim is born at fetch with an id that is never parsed, lives in exactly
// one queue directory of the spool (see spool.h), and carries its manifest
// (claim.json) with provenance, attempts, the reason it is parked, the NCB
// reference once submitted, and its history. The email's text and personal
// fields are kept apart in email.json, so the manifest can be listed freely.
#ifndef NCBOCR_CLAIM_H_
#define NCBOCR_CLAIM_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/status.h"

namespace ncbocr {

// The queues of the spool; each is a directory of the same name.
enum class ClaimState {
  kFetched,    // in the spool, waiting for OCR
  kOcred,      // OCR text present, waiting for extraction
  kReady,      // fields extracted and confident, waiting for submission
  kSubmitted,  // in NCB, waiting for archive
  kDone,       // in NCB and archived (final)
  kReview,     // waiting for a clerk (exceptions approve/reject)
  kDeferred,   // waiting for its next attempt; resume_state says where it goes
  kFailed,     // parked: cannot go on automatically (see reason); retry-able
  kRejected,   // final, with a reason
  kDuplicate,  // final: the same receipt as duplicate_of
};

const std::vector<ClaimState>& AllClaimStates();
const char* ClaimStateName(ClaimState s);
std::optional<ClaimState> ParseClaimState(const std::string& name);

struct Attachment {
  std::string filename;      // sanitised original name (safe for a path)
  std::string content_type;  // sniffed from the bytes: image/jpeg, application/pdf...
  std::string sha256;        // hex digest of the bytes
  long long size = 0;
  std::string stored_name;   // file in the claim directory, e.g. "original.jpg"
};

struct ClaimSource {
  std::string kind;          // maildir, eml, gmail, imap, file
  std::string email_id;      // id of the email at its source (Gmail id, file name...)
  std::string message_id;    // RFC 5322 Message-ID, if any
  std::string source_key;    // unique key of (email, part) used for idempotent fetch
  int part_index = 0;        // which attachment of the email (0-based)
  int part_count = 0;        // how many receipt attachments the email had
  std::string received_at;   // ISO 8601
};

// Pages of an attachment, 1-based and inclusive: {2, 3} is pages 2 to 3.
struct PageRange {
  int first = 1;
  int last = 1;
  bool operator==(const PageRange& o) const { return first == o.first && last == o.last; }
  bool operator!=(const PageRange& o) const { return !(*this == o); }
  // "page 2" or "pages 2-3", for reasons and listings.
  std::string Describe() const;
};

struct HistoryEntry {
  std::string at;      // ISO 8601
  std::string from;    // state name, "" at creation
  std::string to;
  std::string actor;   // stage name or "user:NAME"
  std::string reason;
};

// An attempt a stage has begun on a claim and not yet finished. The stage
// writes it (durably) before it starts the work, as Postfix moves a message to
// `active` first; the move that ends the attempt clears it. A stage that finds
// one left by another run knows that run died on the claim: killed, timed out
// or out of memory (see ForEachClaim in stage.h).
struct OpenAttempt {
  std::string stage;       // "ocr", ...
  std::string run;         // the run that began it (StageContext::run)
  std::string started_at;  // ISO 8601
};

struct Claim {
  std::string id;
  ClaimState state = ClaimState::kFetched;  // from the directory it lives in
  std::string created_at;
  ClaimSource source;
  std::optional<Attachment> attachment;     // none: email had no usable receipt
  std::vector<std::string> skipped;         // parts of the email not taken, with why
  // Receipt segmentation (segment.h), set by the extract stage before it
  // reads any field: the pages of the attachment that hold this claim's
  // receipt, and how many receipts the attachment holds (0: not segmented
  // yet). When it holds more than one, the first receipt stays with the
  // claim the attachment came in with and each other one becomes a claim of
  // its own, split_from naming the first; all of them share the attachment.
  std::optional<PageRange> pages;
  int attachment_receipts = 0;
  std::string split_from;
  int attempts = 0;                         // failed attempts at the current stage
  int interrupted = 0;                      // of those, attempts that never finished
  std::optional<OpenAttempt> open_attempt;  // the attempt under way, if any
  std::string next_attempt_at;              // ISO 8601, deferred only
  std::optional<ClaimState> resume_state;   // deferred only
  std::string reason;                       // why parked / deferred / rejected / in review
  std::vector<std::string> review_reasons;  // from extraction
  std::optional<double> confidence;         // overall extraction confidence
  std::string ncb_reference;
  std::string submitted_at;
  std::string duplicate_of;
  std::string archived_path;
  std::vector<HistoryEntry> history;
  nlohmann::json notes = nlohmann::json::object();  // free-form stage annotations

  nlohmann::json ToJson() const;
  static Result<Claim> FromJson(const nlohmann::json& j);
};

// The claim's attachment as people and NCB see it: the file name, and for
// one of several receipts in one attachment its pages, "scan.pdf (page 2)".
// "" without an attachment.
std::string AttachmentLabel(const Claim& c);
// The same in at most `width` bytes for a column: the file name is cut
// (ending in "~"), the pages are kept.
std::string AttachmentLabel(const Claim& c, size_t width);

// A fresh claim id: "YYYYMMDD-HHMMSS-xxxxxxxx" (UTC time + 32 random bits).
std::string NewClaimId();

// The day folder of a claim, "YYYY/MM/DD" (local date it was fetched): the
// same for the local archive and Google Drive.
std::string ClaimDay(const Claim& c);

// The claim-side values an NCB request and the audit row are built from:
// extracted field values (strings; a number is written as JSON writes it)
// plus provenance (source_email_id, source_filename, claim_id).
struct ClaimValues {
  std::map<std::string, std::string> fields;  // service_date, total_amount, ...
  double confidence = 0;
};

// The values of claim c from its extract.json document. Never fails: fields
// that are not objects with a string or number "value" are skipped, and a
// document without "fields" gives the provenance alone.
ClaimValues ClaimValuesOf(const nlohmann::json& extract, const Claim& c);

}  // namespace ncbocr

#endif  // NCBOCR_CLAIM_H_
