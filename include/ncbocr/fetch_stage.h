// Fetch: the first stage. Reads claim emails from a mail source and turns
// each receipt attachment into a claim in the spool.
//
// The mail comes from a MailSource (mail_source.h). For every message the
// stage creates:
//   - one claim per receipt attachment, committed into `fetched`;
//   - a claim in `duplicate` for an attachment whose content was seen before;
//   - one claim in `review` when the email has no usable receipt at all;
//   - one claim in `failed` when the message cannot be read as an email or is
//     over fetch.max_message_bytes;
// so nothing that arrives is silently lost. Only when every claim of a
// message is committed is the message marked processed at its source.
//
// Fetch is idempotent: each claim's source key ("kind:email_id#part") is
// indexed in the spool before its commit. A re-fetch of a message finds its
// claims and skips them; after a crash between indexing and commit, the claim
// is re-created under the same id. For IMAP and Gmail, whose ids change when
// the same email arrives again (a new UID or UIDVALIDITY, a second Gmail
// id), the Message-ID is indexed too, and such a message makes no claim.
#ifndef NCBOCR_FETCH_STAGE_H_
#define NCBOCR_FETCH_STAGE_H_

#include <string>

#include "ncbocr/mail_source.h"
#include "ncbocr/stage.h"

namespace ncbocr {

// Runs the fetch stage (under the stage lock) on the configured source.
StageReport RunFetchStage(StageContext& ctx);
// The same on a given source (tests, and the Gmail / IMAP front ends).
StageReport RunFetchStage(StageContext& ctx, MailSource& source);

// The source key of one claim of a message: "kind:email_id#part", with
// part = the receipt's index, or "none" / "failed" for the one claim of a
// message without receipts / that could not be read.
std::string SourceKey(const std::string& kind, const std::string& email_id,
                      const std::string& part);

// An email as log lines and parked reasons name it: "kind:id", on one line.
// Where the id is a file name (the eml source: mail clients save a message
// under its Subject, which may hold a member's name or IC number) it becomes
// "eml:" and the first 12 hex digits of the name's SHA-256, never the name;
// `ncbocr claims show` still gives the file name.
std::string EmailForLog(const std::string& kind, const std::string& email_id);

}  // namespace ncbocr

#endif  // NCBOCR_FETCH_STAGE_H_
