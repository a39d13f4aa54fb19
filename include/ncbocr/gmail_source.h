// Gmail: a MailSource (fetch.h) over the Gmail API, for fetch.source: gmail.
//
// List pages through users.messages.list with gmail.query (by default every
// message with an attachment that does not yet carry the processed label),
// following nextPageToken, and returns the ids oldest first. Read fetches one
// message with format=raw and decodes it (base64url) into the RFC 5322 bytes
// the MIME parser reads for every source. MarkProcessed adds the processed
// label (looked up by name with labels.list, created on first use with
// labels.create, its id cached for the run) and removes UNREAD, so the next
// List no longer returns the message and a person sees it was handled.
//
// Failures stay per message: one that cannot be read is left unlabelled and
// comes back next run, and the fetch stage's source-key index (the Gmail
// message id) and sha256 index mean a message seen twice never makes a
// second claim. 429 and 5xx answers are retried with backoff (GoogleSend);
// a refresh token Google refuses is kCredentials, and fetch then exits 77
// with every message still in the mailbox.
#ifndef NCBOCR_GMAIL_SOURCE_H_
#define NCBOCR_GMAIL_SOURCE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ncbocr/config.h"
#include "ncbocr/mail_source.h"
#include "ncbocr/google_auth.h"
#include "ncbocr/http.h"

namespace ncbocr {

class GmailSource : public MailSource {
 public:
  // Takes ownership of the HTTP client and of a token source that uses it.
  GmailSource(GmailConfig config, std::unique_ptr<HttpClient> http,
              std::unique_ptr<TokenSource> tokens, HttpOptions options, Logger log);
  std::string kind() const override { return "gmail"; }
  Result<std::vector<MailRef>> List() override;
  Result<std::string> Read(const MailRef& ref, long long max_bytes) override;
  Status MarkProcessed(const MailRef& ref) override;

  // The processed label's id, created if the mailbox has none of that name.
  Result<std::string> ProcessedLabelId();

 private:
  std::string UserUrl() const;
  Result<HttpResponse> Call(const std::string& method, const std::string& url,
                            const std::string& json_body = "");
  Result<std::optional<std::string>> FindLabel();

  GmailConfig config_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<TokenSource> tokens_;  // after http_: it holds a reference to it
  HttpOptions options_;
  Logger log_;
  std::string label_id_;
};

// The Gmail source fetch.source: gmail names: the libcurl client and the
// token file at gmail.token_path (refreshed with gmail.credentials_path's
// client when it lacks one). kConfig / kCredentials if these cannot be used.
Result<std::unique_ptr<MailSource>> MakeGmailSource(const Config& config, const Clock& clock,
                                                    Logger log);

}  // namespace ncbocr

#endif  // NCBOCR_GMAIL_SOURCE_H_
