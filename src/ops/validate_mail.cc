// validate-credentials checkers for the mail servers: IMAP (the intake,
// fetch.source: imap) and SMTP (the alert channel, alerts.enabled).
#include "ncbocr/http.h"
#include "ncbocr/imap_source.h"
#include "ncbocr/smtp.h"
#include "ncbocr/util.h"
#include "ncbocr/validate.h"

namespace ncbocr {
namespace {

// Why a live mail call failed, and what to do, as one result.
CheckResult MailLiveFail(const std::string& service, const std::string& check, Status s,
                         const std::string& refused_fix, const std::string& tls_fix) {
  switch (s.kind()) {
    case ErrorKind::kCredentials: return CheckFail(service, check, s, refused_fix);
    case ErrorKind::kConfig: return CheckFail(service, check, s, tls_fix);
    default:
      return CheckFail(service, check, Status::Unavailable(s.message()),
                       "check that the server is up and reachable from this host (firewall, port)");
  }
}

}  // namespace

std::vector<CheckResult> CheckImap(const Config& config, const CheckOptions& options) {
  std::vector<CheckResult> out;
  if (config.fetch.source != "imap") return out;
  const ImapConfig& c = config.imap;
  auto url = ParseImapUrl(c.url);
  if (c.url.empty() || !url.ok()) {
    Status s = c.url.empty() ? Status::Config("imap.url is not set") : url.status();
    out.push_back(CheckFail("imap", "url", s, "set imap.url to imaps://HOST:993/FOLDER"));
    return out;
  }
  out.push_back(CheckPass("imap", "url", c.url));
  if (c.username.empty()) {
    out.push_back(CheckFail("imap", "username", Status::Config("imap.username is not set"),
                            "set imap.username to the mailbox's login"));
  }
  if (c.password_file.empty()) {
    out.push_back(CheckFail("imap", "password file", Status::Config("imap.password_file is not set"),
                            "write the password to a file (chmod 600) and set imap.password_file to it"));
  } else {
    out.push_back(CheckSecret("imap", "password file", c.password_file, "imap.password_file"));
  }
  if (!c.ca_file.empty()) {
    bool readable = ReadFile(c.ca_file).ok();
    out.push_back(readable ? CheckPass("imap", "ca file", c.ca_file + " readable")
                           : CheckFail("imap", "ca file", Status::Config("imap.ca_file " + c.ca_file + " cannot be read"),
                                       "set imap.ca_file to the PEM certificate of the CA that signed the server's"));
  }
  for (const auto& r : out) {
    if (!r.ok || !options.live) return out;
  }
  auto count = ProbeImap(config, options.log);
  if (!count.ok()) {
    out.push_back(MailLiveFail("imap", "login", count.status(),
                               "check imap.username and the password in " + c.password_file,
                               "if the server uses a private CA, set imap.ca_file to its PEM certificate; "
                               "otherwise check the folder in imap.url"));
    return out;
  }
  out.push_back(CheckPass("imap", "login", "logged in; folder " + url->mailbox + " holds " +
                                               std::to_string(*count) + " messages"));
  return out;
}

std::vector<CheckResult> CheckSmtp(const Config& config, const CheckOptions& options) {
  std::vector<CheckResult> out;
  const AlertConfig& a = config.alerts;
  if (!a.enabled) return out;
  if (a.smtp_host.empty()) {
    out.push_back(CheckFail("smtp", "host", Status::Config("alerts.smtp_host is not set"),
                            "set SMTP_HOST to the mail relay, or alerts.enabled: false"));
    return out;
  }
  out.push_back(CheckPass("smtp", "host", a.smtp_host + ":" + std::to_string(a.smtp_port)));
  if (a.recipients.empty()) {
    out.push_back(CheckFail("smtp", "recipients", Status::Config("alerts.recipients is empty"),
                            "set ALERT_RECIPIENTS to the operations team's addresses"));
  }
  if (!a.smtp_password_file.empty()) {
    out.push_back(CheckSecret("smtp", "password file", a.smtp_password_file, "alerts.smtp_password_file"));
  } else if (!a.smtp_username.empty() && a.smtp_password.empty()) {
    out.push_back(CheckFail("smtp", "password", Status::Config("alerts.smtp_username is set but no password"),
                            "write the password to a file (chmod 600) and set alerts.smtp_password_file"));
  }
  for (const auto& r : out) {
    if (!r.ok || !options.live) return out;
  }
  Status s = ProbeSmtp(a);
  if (!s.ok()) {
    out.push_back(MailLiveFail("smtp", "session", s, "check alerts.smtp_username and the password",
                               "use a relay that offers STARTTLS (port 587) or TLS (port 465) with a "
                               "certificate this host trusts"));
    return out;
  }
  std::string how = IsLoopbackHost(a.smtp_host) ? "connected" : "connected over TLS";
  out.push_back(CheckPass("smtp", "session", how + (a.smtp_username.empty() ? "" : ", logged in") +
                                                 ", NOOP accepted (no mail sent)"));
  return out;
}

}  // namespace ncbocr
