// Mail sources: where claim emails come from. A MailSource hides the place
// (a Maildir, a folder of .eml files, the Gmail API (gmail_source.h) or an
// IMAP server (imap_source.h)), so the fetch stage (fetch_stage.h) is written
// and tested once. Sources know nothing of the spool.
#ifndef NCBOCR_MAIL_SOURCE_H_
#define NCBOCR_MAIL_SOURCE_H_

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ncbocr/clock.h"
#include "ncbocr/config.h"
#include "ncbocr/status.h"

namespace ncbocr {

namespace fs = std::filesystem;

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

}  // namespace ncbocr

#endif  // NCBOCR_MAIL_SOURCE_H_
