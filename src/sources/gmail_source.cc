// The Gmail API mail source (see gmail.h).
#include "ncbocr/gmail_source.h"
#include "ncbocr/util.h"

#include <algorithm>
#include <set>

namespace ncbocr {
namespace {

using json = nlohmann::json;

constexpr int kPageSize = 100;
// A mailbox left unprocessed for weeks must not make one run take hours;
// the rest is listed next run.
constexpr size_t kMaxListed = 5000;

Result<json> ParseBody(const HttpResponse& r, const std::string& what) {
  try {
    return json::parse(r.body);
  } catch (const json::exception&) {
    return Status::Transient(what + ": Gmail answered with invalid JSON");
  }
}

// j[key] when it is a string, else "". Gmail answers are input like any
// other: a field of another type must not throw out of the reader, as
// json::value would.
}  // namespace

GmailSource::GmailSource(GmailConfig config, std::unique_ptr<HttpClient> http,
                         std::unique_ptr<TokenSource> tokens, HttpOptions options, Logger log)
    : config_(std::move(config)), http_(std::move(http)), tokens_(std::move(tokens)),
      options_(std::move(options)), log_(std::move(log)) {}

std::string GmailSource::UserUrl() const {
  std::string base = config_.api_base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/gmail/v1/users/" + UrlEncode(config_.user);
}

Result<HttpResponse> GmailSource::Call(const std::string& method, const std::string& url,
                                       const std::string& json_body) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.headers = {{"Accept", "application/json"}};
  if (!json_body.empty()) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = json_body;
  }
  return GoogleSend(*http_, *tokens_, req, options_, log_);
}

Result<std::vector<MailRef>> GmailSource::List() {
  std::vector<MailRef> refs;
  std::set<std::string> seen;  // a message moving between pages must not come twice
  std::string page_token;
  do {
    std::string url = UserUrl() + "/messages?maxResults=" + std::to_string(kPageSize) +
                      "&q=" + UrlEncode(config_.query);
    if (!page_token.empty()) url += "&pageToken=" + UrlEncode(page_token);
    auto resp = Call("GET", url);
    if (!resp.ok()) return resp.status();
    if (resp->status != 200) return GoogleError(*resp, "Gmail messages.list");
    auto j = ParseBody(*resp, "Gmail messages.list");
    if (!j.ok()) return j.status();
    if (auto m = j->find("messages"); m != j->end() && m->is_array()) {
      for (const auto& msg : *m) {
        std::string id = JsonString(msg, "id");
        if (id.empty() || !seen.insert(id).second) continue;
        MailRef ref;
        ref.email_id = id;
        refs.push_back(std::move(ref));
      }
    }
    page_token = JsonString(*j, "nextPageToken");
  } while (!page_token.empty() && refs.size() < kMaxListed);
  // Gmail lists newest first; the fetch stage wants the oldest first.
  std::reverse(refs.begin(), refs.end());
  log_->debug("Gmail: {} messages match the query", refs.size());
  return refs;
}

Result<std::string> GmailSource::Read(const MailRef& ref, long long max_bytes) {
  auto resp = Call("GET", UserUrl() + "/messages/" + UrlEncode(ref.email_id) + "?format=raw");
  if (!resp.ok()) return resp.status();
  if (resp->status == 404) return Status::Io("message " + ref.email_id + " is no longer in the mailbox");
  if (resp->status != 200) return GoogleError(*resp, "Gmail messages.get " + ref.email_id);
  auto j = ParseBody(*resp, "Gmail messages.get");
  if (!j.ok()) return j.status();
  long long estimate = -1;
  if (auto it = j->find("sizeEstimate"); it != j->end() && it->is_number()) {
    // As a clamped double: a float too large for long long is undefined to convert.
    estimate = static_cast<long long>(std::clamp(it->get<double>(), -1.0, 1e15));
  }
  auto raw_field = j->find("raw");
  if (raw_field == j->end() || !raw_field->is_string()) {
    return Status::Transient("Gmail messages.get " + ref.email_id + ": no raw message in the answer");
  }
  const std::string& encoded = raw_field->get_ref<const std::string&>();
  // Decoded size is 3/4 of the text; refuse before decoding a huge message.
  long long size = std::max(estimate, static_cast<long long>(encoded.size() / 4 * 3));
  if (size > max_bytes) {
    return Status::Permanent("message is " + std::to_string(size / (1024 * 1024) + 1) +
                             " MiB, over fetch.max_message_bytes");
  }
  auto raw = Base64UrlDecode(encoded);
  if (!raw.ok()) return Status::Permanent("Gmail message " + ref.email_id + ": raw is not base64url");
  return std::move(*raw);
}

Result<std::optional<std::string>> GmailSource::FindLabel() {
  auto resp = Call("GET", UserUrl() + "/labels");
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return GoogleError(*resp, "Gmail labels.list");
  auto j = ParseBody(*resp, "Gmail labels.list");
  if (!j.ok()) return j.status();
  if (auto labels = j->find("labels"); labels != j->end() && labels->is_array()) {
    for (const auto& l : *labels) {
      if (JsonString(l, "name") == config_.processed_label && !JsonString(l, "id").empty()) {
        return std::optional<std::string>(JsonString(l, "id"));
      }
    }
  }
  return std::optional<std::string>();
}

Result<std::string> GmailSource::ProcessedLabelId() {
  if (!label_id_.empty()) return label_id_;
  auto found = FindLabel();
  if (!found.ok()) return found.status();
  if (!*found) {
    json body = {{"name", config_.processed_label},
                 {"labelListVisibility", "labelShow"},
                 {"messageListVisibility", "show"}};
    auto resp = Call("POST", UserUrl() + "/labels", body.dump());
    if (!resp.ok()) return resp.status();
    if (resp->status == 200) {
      auto j = ParseBody(*resp, "Gmail labels.create");
      if (!j.ok()) return j.status();
      found = std::optional<std::string>(JsonString(*j, "id"));
      log_->info("Gmail: created label {}", config_.processed_label);
    } else if (resp->status == 409) {
      found = FindLabel();  // another process created it just now
      if (!found.ok()) return found.status();
    } else {
      return GoogleError(*resp, "Gmail labels.create");
    }
  }
  if (!*found || (*found)->empty()) {
    return Status::Transient("Gmail label " + config_.processed_label + " could not be found or created");
  }
  label_id_ = **found;
  return label_id_;
}

Status GmailSource::MarkProcessed(const MailRef& ref) {
  auto label = ProcessedLabelId();
  if (!label.ok()) return label.status();
  json body = {{"addLabelIds", {*label}}, {"removeLabelIds", {"UNREAD"}}};
  auto resp = Call("POST", UserUrl() + "/messages/" + UrlEncode(ref.email_id) + "/modify", body.dump());
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return GoogleError(*resp, "Gmail messages.modify " + ref.email_id);
  return Status::Ok();
}

Result<std::unique_ptr<MailSource>> MakeGmailSource(const Config& config, const Clock& clock,
                                                    Logger log) {
  Status url = CheckUrlAllowed(config.gmail.api_base_url);
  if (!url.ok()) return url.WithContext("gmail.api_base_url");
  if (config.gmail.processed_label.empty()) return Status::Config("gmail.processed_label is empty");
  HttpOptions options;
  auto http = MakeCurlClient(options, log);
  auto tokens = OpenUserTokenSource(config.gmail.token_path, config.gmail.credentials_path, *http,
                                    options, clock, log);
  if (!tokens.ok()) return tokens.status();
  return std::unique_ptr<MailSource>(new GmailSource(config.gmail, std::move(http),
                                                     std::move(*tokens), options, std::move(log)));
}

}  // namespace ncbocr
