// SMTP: how ncbocr sends its alert emails to the operations team.
//
// BuildMessage makes a complete RFC 5322 message (Date, Message-ID, From, To,
// Subject, MIME-Version, a text/plain UTF-8 body, Auto-Submitted so that
// vacation responders stay quiet). MailSender hides the transport so the alert
// logic is tested without a server; the libcurl sender speaks SMTP with
// STARTTLS required (CURLUSESSL_ALL) to any host that is not loopback, or
// implicit TLS on port 465. A loopback relay (a local Postfix, the tests'
// server) may be plain.
#ifndef NCBOCR_SMTP_H_
#define NCBOCR_SMTP_H_

#include <memory>
#include <string>
#include <vector>

#include "ncbocr/clock.h"
#include "ncbocr/config.h"
#include "ncbocr/status.h"

namespace ncbocr {

struct MailMessage {
  std::string subject;  // UTF-8; one line (line breaks are replaced by spaces)
  std::string body;     // UTF-8 text, "\n" line ends
  std::vector<std::pair<std::string, std::string>> extra_headers;  // e.g. X-Ncbocr-Alert
};

// The whole message, CRLF line ends. from and recipients come from config.
// Non-ASCII subjects are RFC 2047 encoded; non-ASCII bodies quoted-printable.
std::string BuildMessage(const AlertConfig& config, const MailMessage& m, TimePoint now);

// "Name <a@b>" -> "a@b"; a bare address is returned trimmed.
std::string AddressOf(const std::string& mailbox);

// "Thu, 18 Dec 2024 10:42:00 +0800" (RFC 5322 date, local time).
std::string Rfc5322Date(TimePoint t);

class MailSender {
 public:
  virtual ~MailSender() = default;
  // Sends one message (as BuildMessage makes it) to every recipient.
  virtual Status Send(const std::string& from, const std::vector<std::string>& recipients,
                      const std::string& message) = 0;
};

// The libcurl SMTP sender for config (host, port, username, password or
// password file). kConfig without smtp_host or recipients; kCredentials for a
// password file that is too open. Send: kCredentials when the server refuses
// the login, kUnavailable when it cannot be reached or refuses the message,
// kConfig when a non-loopback server offers no STARTTLS.
Result<std::unique_ptr<MailSender>> MakeSmtpSender(const AlertConfig& config);

// For validate-credentials: connects to the server as Send would (STARTTLS
// required off the host, AUTH when smtp_username is set), says NOOP and
// QUIT; sends no mail. Errors as Send's.
Status ProbeSmtp(const AlertConfig& config);

}  // namespace ncbocr

#endif  // NCBOCR_SMTP_H_
