// The IMAP mail source (see imap.h): libcurl over one reused connection.
#include "ncbocr/imap_source.h"
#include "ncbocr/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <sstream>

#include "net/curl_tls.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

// Splits a response into lines without their CR LF.
std::vector<std::string> Lines(const std::string& response) {
  std::vector<std::string> out;
  std::istringstream in(response);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The number after `key ` in line (case-insensitive), if any.
std::optional<unsigned long long> NumberAfter(const std::string& line, const std::string& key) {
  std::string up = Upper(line);
  size_t at = up.find(key + " ");
  while (at != std::string::npos) {
    bool word_start = at == 0 || !std::isalnum(static_cast<unsigned char>(up[at - 1]));
    size_t p = at + key.size() + 1;
    if (word_start && p < up.size() && std::isdigit(static_cast<unsigned char>(up[p]))) {
      return std::stoull(up.substr(p, up.find_first_not_of("0123456789", p) - p));
    }
    at = up.find(key + " ", at + 1);
  }
  return std::nullopt;
}

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<std::pair<std::string*, long long>*>(user);
  if (sink->second >= 0 && static_cast<long long>(sink->first->size() + size * n) > sink->second)
    return 0;  // over the cap: libcurl ends the transfer with CURLE_WRITE_ERROR
  sink->first->append(data, size * n);
  return size * n;
}

class ImapSource : public MailSource {
 public:
  ImapSource(ImapConfig config, ImapUrl url, std::string password, Logger log)
      : config_(std::move(config)), url_(std::move(url)), password_(std::move(password)),
        log_(std::move(log)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
  }
  ~ImapSource() override {
    if (curl_) curl_easy_cleanup(curl_);
  }
  ImapSource(const ImapSource&) = delete;
  ImapSource& operator=(const ImapSource&) = delete;

  std::string kind() const override { return "imap"; }

  Result<std::vector<MailRef>> List() override {
    auto status = Command(url_.base + "/", "STATUS " + ImapQuote(url_.mailbox) + " (UIDVALIDITY)");
    if (!status.ok()) return status.status();
    auto validity = ParseUidValidity(*status);
    if (!validity) return Status::Unavailable("the IMAP server sent no UIDVALIDITY for the folder");
    uidvalidity_ = *validity;
    auto found = Command(MailboxUrl(), "UID SEARCH " + config_.search);
    if (!found.ok()) return found.status();
    std::vector<unsigned long long> uids = ParseSearchUids(*found);
    std::vector<MailRef> refs;
    items_.clear();
    for (size_t i = 0; i < uids.size(); i += 200) {  // keep command lines short
      std::string set;
      for (size_t j = i; j < uids.size() && j < i + 200; ++j)
        set += (set.empty() ? "" : ",") + std::to_string(uids[j]);
      auto sizes = Command(MailboxUrl(), "UID FETCH " + set + " (UID RFC822.SIZE FLAGS)");
      if (!sizes.ok()) return sizes.status();
      for (const ImapFetchItem& item : ParseFetchItems(*sizes)) items_[item.uid] = item;
    }
    for (unsigned long long uid : uids) {  // UIDs ascend with arrival: oldest first
      MailRef ref;
      ref.email_id = std::to_string(uidvalidity_) + ":" + std::to_string(uid);
      if (auto it = items_.find(uid); it != items_.end()) ref.size = it->second.size;
      refs.push_back(std::move(ref));
    }
    return refs;
  }

  Result<std::string> Read(const MailRef& ref, long long max_bytes) override {
    auto uid = CheckedUid(ref);
    if (!uid.ok()) return uid.status();
    if (ref.size > max_bytes) {
      return Status::Permanent("message is " + std::to_string(ref.size) +
                               " bytes, over fetch.max_message_bytes (" +
                               std::to_string(max_bytes) + ")");
    }
    std::string url = url_.base + "/" + url_.mailbox_path + ";UIDVALIDITY=" +
                      std::to_string(uidvalidity_) + "/;UID=" + std::to_string(*uid);
    auto body = Perform(url, "", max_bytes);
    // libcurl's fetch set \Seen; an unread message stays unread until processed.
    auto it = items_.find(*uid);
    if (it != items_.end() && !it->second.seen) {
      auto s = Command(MailboxUrl(), "UID STORE " + std::to_string(*uid) + " -FLAGS.SILENT (\\Seen)");
      if (!s.ok()) log_->warn("imap uid {}: cannot clear \\Seen: {}", *uid, s.status().ToString());
    }
    if (!body.ok() && body.status().kind() == ErrorKind::kInternal &&
        body.status().message().find("over the size cap") != std::string::npos) {
      return Status::Permanent("message is over fetch.max_message_bytes (" +
                               std::to_string(max_bytes) + ")");
    }
    return body;
  }

  // Logs in and opens the folder read-only (EXAMINE changes no flag); the
  // number of messages in it, for validate-credentials.
  Result<unsigned long long> Examine() {
    auto r = Command(url_.base + "/", "EXAMINE " + ImapQuote(url_.mailbox));
    if (!r.ok()) {
      if (r.status().kind() != ErrorKind::kUnavailable) return r.status();
      return Status::Config("the IMAP server would not open folder '" + url_.mailbox +
                            "' of imap.url: " + r.status().message());
    }
    for (const std::string& line : Lines(*r)) {
      std::string up = Upper(line);
      if (up.rfind("* ", 0) == 0 && up.size() > 9 && up.compare(up.size() - 7, 7, " EXISTS") == 0)
        return std::stoull(up.substr(2, up.size() - 9));
    }
    return 0ULL;
  }

  Status MarkProcessed(const MailRef& ref) override {
    auto uid = CheckedUid(ref);
    if (!uid.ok()) return uid.status();
    std::string n = std::to_string(*uid);
    auto stored = Command(MailboxUrl(), "UID STORE " + n + " +FLAGS.SILENT (\\Seen " +
                                            config_.processed_keyword + ")");
    if (!stored.ok()) return stored.status();
    if (config_.move_to.empty()) return Status::Ok();
    std::string to = ImapQuote(config_.move_to);
    auto moved = Command(MailboxUrl(), "UID MOVE " + n + " " + to);
    if (moved.ok()) return Status::Ok();
    // Perhaps the folder is missing ([TRYCREATE]): create it (an error here
    // means it exists or cannot be made; the retry tells which) and retry.
    (void)Command(url_.base + "/", "CREATE " + to);
    moved = Command(MailboxUrl(), "UID MOVE " + n + " " + to);
    if (moved.ok()) return Status::Ok();
    // No MOVE extension (RFC 6851): copy, then expunge just this UID.
    auto copied = Command(MailboxUrl(), "UID COPY " + n + " " + to);
    if (!copied.ok()) return copied.status();
    auto deleted = Command(MailboxUrl(), "UID STORE " + n + " +FLAGS.SILENT (\\Deleted)");
    if (!deleted.ok()) return deleted.status();
    auto expunged = Command(MailboxUrl(), "UID EXPUNGE " + n);
    return expunged.ok() ? Status::Ok() : expunged.status();
  }

 private:
  std::string MailboxUrl() const { return url_.base + "/" + url_.mailbox_path; }

  // The UID of ref, if it belongs to the folder as last listed.
  Result<unsigned long long> CheckedUid(const MailRef& ref) const {
    auto id = ParseImapEmailId(ref.email_id);
    if (!id) return Status::Permanent("'" + ref.email_id + "' is not an IMAP email id");
    if (id->first != uidvalidity_) {
      return Status::Io("imap uid " + std::to_string(id->second) +
                        ": the folder's UIDVALIDITY changed; it is listed again next run");
    }
    return id->second;
  }

  Result<std::string> Command(const std::string& url, const std::string& request) {
    return Perform(url, request, -1);
  }

  // One libcurl transfer on the kept connection; custom_request empty: fetch.
  Result<std::string> Perform(const std::string& url, const std::string& custom_request,
                              long long cap) {
    if (!curl_) return Status::Internal("cannot initialise libcurl");
    std::string out;
    std::pair<std::string*, long long> sink{&out, cap};
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, url_.tls ? "imaps" : "imap");
    curl_easy_setopt(curl_, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(curl_, CURLOPT_PASSWORD, password_.c_str());
    SetCurlTls(curl_, &config_.ca_file);  // imap.ca_file adds to the system CAs, as ncb.ca_file does
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_LIMIT, 1L);   // no overall timeout: big
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_TIME, 120L);  // messages may be slow
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnData);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &sink);
    if (!custom_request.empty())
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, custom_request.c_str());
    CURLcode rc = curl_easy_perform(curl_);
    if (rc == CURLE_OK) return out;
    std::string what = std::string(errbuf[0] ? errbuf : curl_easy_strerror(rc));
    // The command's first two words ("UID SEARCH", "EXAMINE \"INBOX\""): never a
    // search term or flag list, and never cut inside a word.
    std::string verb = custom_request.empty() ? "UID FETCH"
                                              : custom_request.substr(0, custom_request.find(' ', custom_request.find(' ') + 1));
    std::string msg = "IMAP " + verb + ": " + what;
    switch (rc) {
      case CURLE_LOGIN_DENIED:
        return Status::Credentials("the IMAP server refused the login for imap.username: " + what);
      case CURLE_WRITE_ERROR:
        return Status::Internal("IMAP message over the size cap");
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CONNECT_ERROR:
        return Status::Config(msg + " (check the server certificate or imap.ca_file)");
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
      case CURLE_OPERATION_TIMEDOUT:
      case CURLE_RECV_ERROR:
      case CURLE_SEND_ERROR:
      case CURLE_GOT_NOTHING:
        return Status::Transient(msg);
      case CURLE_REMOTE_FILE_NOT_FOUND:
        return Status::Io(msg);
      default:
        return Status::Unavailable(msg);  // e.g. a NO / BAD answer (CURLE_QUOTE_ERROR)
    }
  }

  ImapConfig config_;
  ImapUrl url_;
  std::string password_;
  Logger log_;
  CURL* curl_ = nullptr;
  unsigned long long uidvalidity_ = 0;
  std::map<unsigned long long, ImapFetchItem> items_;  // from the last List
};

}  // namespace

Result<ImapUrl> ParseImapUrl(const std::string& url) {
  ImapUrl u;
  std::string rest;
  if (url.rfind("imaps://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("imap://", 0) == 0) {
    rest = url.substr(7);
    u.tls = false;
  } else {
    return Status::Config("imap.url must start with imaps:// (or imap:// to a loopback host)");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (authority.find('@') != std::string::npos)
    return Status::Config("imap.url must not hold credentials; use imap.username and imap.password_file");
  if (authority.empty()) return Status::Config("imap.url has no host");
  std::string host = authority;
  if (host[0] == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? std::string::npos : host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  if (host.empty()) return Status::Config("imap.url has no host");
  if (!u.tls && !IsLoopbackHost(host))
    return Status::Config("imap.url: plain imap:// is allowed only to a loopback host; use imaps://");
  u.mailbox_path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!u.mailbox_path.empty() && u.mailbox_path.back() == '/') u.mailbox_path.pop_back();
  if (u.mailbox_path.empty()) return Status::Config("imap.url names no folder (e.g. .../INBOX)");
  if (u.mailbox_path.find_first_of(";?#") != std::string::npos)
    return Status::Config("imap.url must name just a folder, without ;UID=, ? or #");
  u.mailbox = PercentDecode(u.mailbox_path);
  u.host = host;
  u.base = (u.tls ? "imaps://" : "imap://") + authority;
  return u;
}

std::optional<unsigned long long> ParseUidValidity(const std::string& response) {
  for (const std::string& line : Lines(response)) {
    if (line.rfind("* ", 0) != 0) continue;
    if (auto v = NumberAfter(line, "UIDVALIDITY")) return v;
  }
  return std::nullopt;
}

std::vector<unsigned long long> ParseSearchUids(const std::string& response) {
  std::vector<unsigned long long> uids;
  for (const std::string& line : Lines(response)) {
    if (Upper(line).rfind("* SEARCH", 0) != 0) continue;
    std::istringstream in(line.substr(8));
    for (std::string word; in >> word;) {
      if (word.empty() || word.find_first_not_of("0123456789") != std::string::npos) break;
      uids.push_back(std::stoull(word));
    }
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

std::vector<ImapFetchItem> ParseFetchItems(const std::string& response) {
  std::vector<ImapFetchItem> items;
  for (const std::string& line : Lines(response)) {
    std::string up = Upper(line);
    if (up.rfind("* ", 0) != 0 || up.find(" FETCH (") == std::string::npos) continue;
    size_t open = up.find(" FETCH (") + 7;
    std::string inner = line.substr(open);
    auto uid = NumberAfter(inner, "UID");
    if (!uid) continue;
    ImapFetchItem item;
    item.uid = *uid;
    if (auto size = NumberAfter(inner, "RFC822.SIZE")) item.size = static_cast<long long>(*size);
    size_t flags = Upper(inner).find("FLAGS (");
    if (flags != std::string::npos) {
      std::string list = Upper(inner.substr(flags + 7, inner.find(')', flags) - flags - 7));
      std::istringstream in(list);
      for (std::string f; in >> f;) item.seen = item.seen || f == "\\SEEN";
    }
    items.push_back(item);
  }
  return items;
}

std::optional<std::pair<unsigned long long, unsigned long long>> ParseImapEmailId(
    const std::string& email_id) {
  size_t colon = email_id.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == email_id.size()) return std::nullopt;
  std::string a = email_id.substr(0, colon), b = email_id.substr(colon + 1);
  auto digits = [](const std::string& s) {
    return s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!digits(a) || !digits(b)) return std::nullopt;
  return std::make_pair(std::stoull(a), std::stoull(b));
}

std::string ImapQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Result<unsigned long long> ProbeImap(const Config& config, Logger log) {
  auto source = MakeImapSource(config, std::move(log));
  if (!source.ok()) return source.status();
  return static_cast<ImapSource&>(**source).Examine();
}

Result<std::unique_ptr<MailSource>> MakeImapSource(const Config& config, Logger log) {
  const ImapConfig& c = config.imap;
  if (c.url.empty()) return Status::Config("imap.url is not set");
  auto url = ParseImapUrl(c.url);
  if (!url.ok()) return url.status();
  if (c.username.empty()) return Status::Config("imap.username is not set");
  if (c.password_file.empty()) return Status::Config("imap.password_file is not set");
  if (c.search.empty()) return Status::Config("imap.search is not set");
  auto atom = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
    });
  };
  if (!atom(c.processed_keyword))
    return Status::Config("imap.processed_keyword must be letters, digits, '-', '_' or '.'");
  if (c.search.find_first_of("\r\n") != std::string::npos ||
      c.move_to.find_first_of("\r\n") != std::string::npos)
    return Status::Config("imap.search and imap.move_to must be one line");
  if (!c.move_to.empty() && c.move_to == url->mailbox)
    return Status::Config("imap.move_to is the folder being fetched");
  Status s = CheckSecretFile(c.password_file, "imap.password_file");
  if (!s.ok()) return s;
  auto password = ReadSecretFile(c.password_file, "imap.password_file");
  if (!password.ok()) return password.status();
  return std::unique_ptr<MailSource>(new ImapSource(c, *url, *password, std::move(log)));
}

}  // namespace ncbocr
