// Fetch: the first stage. Reads claim emails from a mail source and turns
// each receipt attachment into a claim in the spool.
//
// A MailSource hides where the mail comes from (a Maildir, a folder of .eml
// files, the Gmail API (gmail.h) or an IMAP server (imap.h)), so the stage logic is written
// and tested once. For every message the stage creates:
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
#ifndef NCBOCR_FETCH_H_
#define NCBOCR_FETCH_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ncbocr/config.h"
#include "ncbocr/spool.h"
#include "ncbocr/stage.h"
#include "ncbocr/status.h"

namespace ncbocr {

// One message waiting at a source.
struct MailRef {
  std::string email_id;              // stable id at the source (never a path)
  long long size = -1;               // bytes, -1 if the source cannot tell cheaply
  std::optional<TimePoint> received; // when the source received it, if known
};

class MailSource {
 public:
  virtual ~MailSource() = default;
  // "maildir", "eml", "gmail", "imap": the first part of every source key.
  virtual std::string kind() const = 0;
  // Messages not yet marked processed, oldest first, in a stable order.
  virtual Result<std::vector<MailRef>> List() = 0;
  // The raw RFC 5322 bytes. kPermanent if larger than max_bytes (without
  // reading it all); kIo / kTransient if it cannot be read now.
  virtual Result<std::string> Read(const MailRef& ref, long long max_bytes) = 0;
  // Called once all claims of the message are committed.
  virtual Status MarkProcessed(const MailRef& ref) = 0;
};

// A Maildir: messages in new/ and cur/, id = the unique part of the file
// name (before ":2,"), which survives a move from new/ to cur/. "move" puts a
// processed message into the Maildir at processed_path, cur/, flagged seen.
class MaildirSource : public MailSource {
 public:
  explicit MaildirSource(const FetchConfig& config) : config_(config) {}
  std::string kind() const override { return "maildir"; }
  Result<std::vector<MailRef>> List() override;
  Result<std::string> Read(const MailRef& ref, long long max_bytes) override;
  Status MarkProcessed(const MailRef& ref) override;

 private:
  std::optional<fs::path> Find(const std::string& email_id) const;
  FetchConfig config_;
  std::map<std::string, fs::path> paths_;  // email id -> file, from the last List
};

// A folder of *.eml files (not recursive); id = the file name. "move" puts a
// processed file into processed_path.
class EmlFolderSource : public MailSource {
 public:
  explicit EmlFolderSource(const FetchConfig& config) : config_(config) {}
  std::string kind() const override { return "eml"; }
  Result<std::vector<MailRef>> List() override;
  Result<std::string> Read(const MailRef& ref, long long max_bytes) override;
  Status MarkProcessed(const MailRef& ref) override;

 private:
  FetchConfig config_;
};

// The source fetch.source names. kConfig for an unknown or not yet built
// source, a missing path, or "move" without processed_path.
Result<std::unique_ptr<MailSource>> MakeMailSource(const FetchConfig& config);

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

#endif  // NCBOCR_FETCH_H_
