// Alert emails: message building and the libcurl SMTP sender.
#include "ncbocr/smtp.h"
#include "ncbocr/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <mutex>

#include "ncbocr/util.h"

namespace ncbocr {

namespace {

// Header values must stay on one line: a stray CR/LF would start a new
// header (header injection), so both become spaces.
std::string OneLine(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return Trim(out);
}

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

std::string Base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

// RFC 2047 encoded words of at most 75 characters, split between UTF-8
// sequences so no character is cut in half.
std::string EncodeHeaderWord(const std::string& s) {
  if (IsAscii(s)) return s;
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = std::min(s.size(), i + 45);  // 45 bytes -> 60 base64 chars
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(s.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

// Quoted-printable (RFC 2045) of text with "\n" line ends, CRLF out.
std::string QuotedPrintable(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  size_t col = 0;
  auto put = [&](const std::string& piece) {
    if (col + piece.size() > 75) {
      out += "=\r\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool line_end = i + 1 == text.size() || text[i + 1] == '\n';
    if (c == '\n') {
      out += "\r\n";
      col = 0;
    } else if (c == '\r') {
      continue;
    } else if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !line_end)) {
      put(std::string(1, static_cast<char>(c)));
    } else {
      put(std::string{'=', hex[c >> 4], hex[c & 15]});
    }
  }
  return out;
}

std::string CrlfLines(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadChunk(char* buf, size_t size, size_t nmemb, void* userp) {
  auto* u = static_cast<Upload*>(userp);
  size_t n = std::min(size * nmemb, u->data->size() - u->offset);
  std::memcpy(buf, u->data->data() + u->offset, n);
  u->offset += n;
  return n;
}

std::string SmtpUrl(const AlertConfig& config) {
  const std::string& host = config.smtp_host;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(config.smtp_port == 465 ? "smtps://" : "smtp://") + h + ":" +
         std::to_string(config.smtp_port);
}

// What every SMTP transfer shares: the server, TLS policy, login, timeouts.
// url and password must outlive the transfer.
void SetSmtpConnection(CURL* curl, const AlertConfig& config, const std::string& url,
                       const std::string& password, char* err) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  // STARTTLS is required off the host; a loopback relay may be plain.
  bool loopback = IsLoopbackHost(config.smtp_host);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(loopback ? CURLUSESSL_TRY : CURLUSESSL_ALL));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!config.smtp_username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, config.smtp_username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
}

Status SmtpError(CURLcode rc, const AlertConfig& config, const char* err) {
  std::string why = "SMTP " + config.smtp_host + ":" + std::to_string(config.smtp_port) + ": " +
                    (err[0] ? err : curl_easy_strerror(rc));
  switch (rc) {
    case CURLE_LOGIN_DENIED: return Status::Credentials(why + "; check smtp_username / the password");
    case CURLE_USE_SSL_FAILED: return Status::Config(why + "; the server must offer STARTTLS");
    case CURLE_PEER_FAILED_VERIFICATION: return Status::Config(why);
    default: return Status::Unavailable(why);
  }
}

CURL* NewCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return curl_easy_init();
}

class CurlSmtpSender : public MailSender {
 public:
  CurlSmtpSender(AlertConfig config, std::string password)
      : config_(std::move(config)), password_(std::move(password)) {}

  Status Send(const std::string& from, const std::vector<std::string>& recipients,
              const std::string& message) override {
    CURL* curl = NewCurl();
    if (curl == nullptr) return Status::Internal("cannot start libcurl");
    std::string url = SmtpUrl(config_);
    std::string mail_from = "<" + AddressOf(from) + ">";
    curl_slist* rcpt = nullptr;
    for (const auto& r : recipients) rcpt = curl_slist_append(rcpt, ("<" + AddressOf(r) + ">").c_str());
    Upload up{&message};
    char err[CURL_ERROR_SIZE] = "";
    SetSmtpConnection(curl, config_, url, password_, err);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadChunk);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    return rc == CURLE_OK ? Status::Ok() : SmtpError(rc, config_, err);
  }

 private:
  AlertConfig config_;
  std::string password_;
};

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

std::string AddressOf(const std::string& mailbox) {
  auto lt = mailbox.rfind('<');
  auto gt = mailbox.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    return Trim(mailbox.substr(lt + 1, gt - lt - 1));
  }
  return Trim(mailbox);
}

std::string Rfc5322Date(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  long off = tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                sign, off / 3600, (off % 3600) / 60);
  return buf;
}

std::string BuildMessage(const AlertConfig& config, const MailMessage& m, TimePoint now) {
  std::string from_addr = AddressOf(config.from);
  auto at = from_addr.rfind('@');
  std::string domain = at == std::string::npos ? "localhost" : from_addr.substr(at + 1);
  std::vector<std::string> to;
  for (const auto& r : config.recipients) to.push_back(OneLine(r));
  std::string h;
  h += "Date: " + Rfc5322Date(now) + "\r\n";
  h += "From: " + OneLine(config.from) + "\r\n";
  h += "To: " + Join(to, ", ") + "\r\n";
  h += "Subject: " + EncodeHeaderWord(OneLine(m.subject)) + "\r\n";
  h += "Message-ID: <" + std::to_string(std::chrono::system_clock::to_time_t(now)) + "." +
       RandomHex(8) + "@" + OneLine(domain) + ">\r\n";
  h += "MIME-Version: 1.0\r\n";
  h += "Content-Type: text/plain; charset=UTF-8\r\n";
  // 7bit only for ASCII with lines SMTP can carry (998 octets); else QP.
  bool ascii = IsAscii(m.body);
  for (size_t start = 0; ascii && start < m.body.size();) {
    size_t nl = m.body.find('\n', start);
    if ((nl == std::string::npos ? m.body.size() : nl) - start > 900) ascii = false;
    start = nl == std::string::npos ? m.body.size() : nl + 1;
  }
  h += std::string("Content-Transfer-Encoding: ") + (ascii ? "7bit" : "quoted-printable") + "\r\n";
  // RFC 3834: a machine wrote this; auto-responders must not answer it.
  h += "Auto-Submitted: auto-generated\r\n";
  for (const auto& [name, value] : m.extra_headers) h += OneLine(name) + ": " + OneLine(value) + "\r\n";
  std::string body = ascii ? CrlfLines(m.body) : QuotedPrintable(m.body);
  if (body.size() < 2 || body.compare(body.size() - 2, 2, "\r\n") != 0) body += "\r\n";
  return h + "\r\n" + body;
}

Status ProbeSmtp(const AlertConfig& config) {
  if (config.smtp_host.empty()) return Status::Config("alerts.smtp_host (SMTP_HOST) is not set");
  std::string password = config.smtp_password;
  if (!config.smtp_password_file.empty()) {
    auto p = ReadSecretFile(config.smtp_password_file, "SMTP password");
    if (!p.ok()) return p.status();
    password = *p;
  }
  CURL* curl = NewCurl();
  if (curl == nullptr) return Status::Internal("cannot start libcurl");
  std::string url = SmtpUrl(config);
  char err[CURL_ERROR_SIZE] = "";
  SetSmtpConnection(curl, config, url, password, err);
  // Connecting does the greeting, EHLO, STARTTLS and AUTH; NOOP then proves
  // the session works, and cleanup says QUIT. No message is sent.
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "NOOP");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK ? Status::Ok() : SmtpError(rc, config, err);
}

Result<std::unique_ptr<MailSender>> MakeSmtpSender(const AlertConfig& config) {
  if (config.smtp_host.empty()) return Status::Config("alerts.smtp_host (SMTP_HOST) is not set");
  if (config.recipients.empty()) return Status::Config("alerts.recipients (ALERT_RECIPIENTS) is empty");
  std::string password = config.smtp_password;
  if (!config.smtp_password_file.empty()) {
    auto p = ReadSecretFile(config.smtp_password_file, "SMTP password");
    if (!p.ok()) return p.status();
    password = *p;
  }
  return std::unique_ptr<MailSender>(std::make_unique<CurlSmtpSender>(config, password));
}

}  // namespace ncbocr
