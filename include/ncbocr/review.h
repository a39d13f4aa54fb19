// Review: what a claims clerk does with the claims the pipeline could not
// finish alone -- list them, look at one, correct and approve it, or reject it.
//
// The exceptions are the claims in `review` (extraction was unsure, or NCB
// refused the claim) and in `failed` (a stage gave up: unreadable file, NCB
// down for too long). Both are listed, each marked with its state, because a
// clerk can settle either: approve sends it to `ready` (the submit stage picks
// it up), reject makes it final. A failed claim that only needs another try is
// better served by `ncbocr retry` (retry.h).
//
// Corrections are checked as strictly as extracted values: ISO dates that
// exist and are not in the future, positive amounts with at most two decimals,
// known field names only. They are written into extract.json with source
// "reviewer" and confidence 1, the replaced values kept under "corrections".
// After the corrections every field NCB requires must be there (BuildNcbBody
// decides), or the approval is refused naming the missing field.
//
// Who decided, when, which fields changed (old -> new values) and the note go
// into the claim's manifest (notes.reviews) and its history; the journal and
// the history line carry only the reviewer and the field NAMES, because the
// journal is read for statistics and must hold no personal data.
#ifndef NCBOCR_REVIEW_H_
#define NCBOCR_REVIEW_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/config.h"
#include "ncbocr/spool.h"
#include "ncbocr/status.h"

namespace ncbocr {

// The claims waiting for a clerk, oldest waiting first:
// [{"id","state","waiting_since","age_s","sender","filename","confidence",
//   "reasons":[...],"reason"}]. sender is email.json's from_address ("" if none).
nlohmann::json ListExceptions(const Spool& spool, TimePoint now);
std::string ExceptionsText(const nlohmann::json& list);

// Everything a clerk needs to decide on one claim: {"id","state","sender",
// "subject","filename","original" (path of the received file),"confidence",
// "reason","reasons","fields":{name:{"value","confidence","source"}},
// "corrections":[...],"ocr_text":[page text...]}. Works for a claim in any
// state; kPermanent if there is no such claim.
Result<nlohmann::json> ShowException(const Spool& spool, const std::string& id);
std::string ExceptionText(const nlohmann::json& shown);

// The fields a clerk may set, and whether each is a date or an amount.
const std::vector<std::string>& ReviewableFields();

// Checks one corrected value and returns its normal form: dates must be
// YYYY-MM-DD, exist and not be after today; total_amount must be > 0 and the
// tax amounts >= 0, each with at most two decimals ("RM 12.5" -> "12.50",
// "1,234.50" -> "1234.50"); text is trimmed, one line, at most 200 chars.
// kPermanent with the reason otherwise (also for an unknown field name).
Result<std::string> NormalizeCorrection(const std::string& field, const std::string& value,
                                        TimePoint now);

// Parses "FIELD=VALUE" arguments; kUsage if one has no '='.
Result<std::vector<std::pair<std::string, std::string>>> ParseSetArgs(
    const std::vector<std::string>& args);

struct ReviewDecision {
  std::string id;
  std::string reviewer;  // a login name; "user:" is prefixed for the actor
  std::string note;      // approve: free text kept in the manifest only
  std::string reason;    // reject: why (goes into history and the journal)
  std::vector<std::pair<std::string, std::string>> corrections;  // approve
};

// review|failed -> ready, after applying and checking the corrections.
// kPermanent for a bad correction, a missing required field or a claim that
// is not waiting for review; the claim is then left exactly as it was.
Status ApproveClaim(const Spool& spool, const Config& config, const ReviewDecision& d,
                    TimePoint now);

// review|failed -> rejected (final). kUsage if reason is empty.
Status RejectClaim(const Spool& spool, const ReviewDecision& d, TimePoint now);

// The login name of the person running the command: getlogin(), else the
// password entry of the effective uid, else "uid:N".
std::string CurrentUserName();

// True if name is usable as a reviewer name (letters, digits, . _ - @).
bool ValidReviewerName(const std::string& name);

// Takes the "review" lock that approve, reject, retry, backup and restore
// share, waiting up to `wait` for it. kTransient if it stays held.
Result<StageLock> LockForManualChange(const Spool& spool, std::chrono::seconds wait);

}  // namespace ncbocr

#endif  // NCBOCR_REVIEW_H_
