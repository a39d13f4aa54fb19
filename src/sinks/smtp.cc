// Alert emails: message building and the libcurl SMTP sender.
#include "ncbocr/smtp.h"
#include "ncbocr/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gmime/gmime.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <mutex>

#include "ncbocr/mime.h"
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

std::string CrlfLines(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  return out;
}

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// Takes a g_malloc'ed string GMime returned.
std::string Adopt(char* s) {
  std::string out = s ? s : "";
  g_free(s);
  return out;
}

// RFC 2047 encoded words (GMime folds and splits them between characters).
std::string EncodeHeaderWord(const std::string& s) {
  if (IsAscii(s)) return s;
  InitGMime();
  return CrlfLines(Adopt(g_mime_utils_header_encode_text(nullptr, s.c_str(), "UTF-8")));
}

// Quoted-printable (RFC 2045) of text with "\n" line ends, CRLF out.
std::string QuotedPrintable(const std::string& text) {
  InitGMime();
  std::string lf;
  for (char c : text) {
    if (c != '\r') lf += c;
  }
  std::string out(GMIME_QP_ENCODE_LEN(lf.size()), '\0');
  int state = -1;
  guint32 save = 0;
  size_t n = g_mime_encoding_quoted_encode_close(reinterpret_cast<const unsigned char*>(lf.data()),
                                                 lf.size(), reinterpret_cast<unsigned char*>(out.data()),
                                                 &state, &save);
  out.resize(n);
  return CrlfLines(out);
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
  InitGMime();
  GDateTime* dt = g_date_time_new_from_unix_local(std::chrono::system_clock::to_time_t(t));
  std::string out = Adopt(g_mime_utils_header_format_date(dt));
  g_date_time_unref(dt);
  return out;
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
  h += "Message-ID: <" + Adopt(g_mime_utils_generate_message_id(OneLine(domain).c_str())) + ">\r\n";
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
