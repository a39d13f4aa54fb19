// The validate-credentials framework and the NCB checker.
#include "ncbocr/validate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <exception>

#include "ncbocr/http.h"
#include "ncbocr/ncb.h"
#include "ncbocr/ncb_http.h"
#include "ncbocr/util.h"

namespace ncbocr {

const std::vector<NamedChecker>& BuiltinCheckers() {
  // One line per service, in pipeline order (validate_google.cc, validate_mail.cc).
  static const std::vector<NamedChecker> checkers = {
      {"gmail", &CheckGmail},  {"imap", &CheckImap},     {"ncb", &CheckNcb},
      {"drive", &CheckDrive},  {"sheets", &CheckSheets}, {"smtp", &CheckSmtp},
  };
  return checkers;
}

std::vector<CheckResult> RunChecks(const Config& config, const CheckOptions& options,
                                   const std::vector<NamedChecker>& checkers) {
  std::vector<CheckResult> all;
  for (const auto& c : checkers) {
    try {
      auto results = c.run(config, options);
      all.insert(all.end(), results.begin(), results.end());
    } catch (const std::exception& e) {
      all.push_back(CheckFail(c.service, "internal", Status::Internal(e.what()),
                              "report this as a bug in ncbocr"));
    }
  }
  return all;
}

int ChecksExitCode(const std::vector<CheckResult>& results) {
  if (results.empty()) return kExitConfig;  // nothing configured is not "all good"
  auto any = [&](ErrorKind k) {
    return std::any_of(results.begin(), results.end(), [k](const CheckResult& r) { return !r.ok && r.kind == k; });
  };
  if (std::all_of(results.begin(), results.end(), [](const CheckResult& r) { return r.ok; })) return kExitOk;
  if (any(ErrorKind::kCredentials)) return kExitNoPerm;
  if (any(ErrorKind::kConfig)) return kExitConfig;
  if (any(ErrorKind::kUnavailable)) return kExitUnavailable;
  return kExitSoftware;
}

std::string ChecksText(const std::vector<CheckResult>& results) {
  size_t w_service = 7, w_check = 5;
  for (const auto& r : results) {
    w_service = std::max(w_service, r.service.size());
    w_check = std::max(w_check, r.check.size());
  }
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w - std::min(w, s.size()), ' '); };
  std::string out = pad("SERVICE", w_service) + "  " + pad("CHECK", w_check) + "  RESULT  DETAIL\n";
  int failed = 0;
  for (const auto& r : results) {
    out += pad(r.service, w_service) + "  " + pad(r.check, w_check) + "  " + (r.ok ? "ok    " : "FAILED") + "  " +
           r.message + "\n";
    if (!r.ok) {
      ++failed;
      if (!r.fix.empty()) out += std::string(w_service + w_check + 4, ' ') + "fix: " + r.fix + "\n";
    }
  }
  if (results.empty()) return out + "no service is configured: nothing to check\n";
  if (failed == 0) return out + "all " + std::to_string(results.size()) + " checks passed\n";
  return out + std::to_string(failed) + " of " + std::to_string(results.size()) + " checks failed\n";
}

namespace {

// Stable names for scripts reading --json.
const char* KindLabel(const CheckResult& r) {
  if (r.ok) return "ok";
  switch (r.kind) {
    case ErrorKind::kCredentials: return "credentials";
    case ErrorKind::kConfig: return "config";
    case ErrorKind::kUnavailable: return "unavailable";
    default: return "internal";
  }
}

}  // namespace

nlohmann::json ChecksJson(const std::vector<CheckResult>& results) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& r : results) {
    checks.push_back({{"service", r.service},
                      {"check", r.check},
                      {"ok", r.ok},
                      {"message", r.message},
                      {"fix", r.fix},
                      {"kind", KindLabel(r)}});
  }
  int code = ChecksExitCode(results);
  return {{"ok", code == kExitOk}, {"exit_code", code}, {"checks", checks}};
}

CheckResult CheckPass(const std::string& service, const std::string& check, const std::string& message) {
  return CheckResult{service, check, true, message, "", ErrorKind::kOk};
}

CheckResult CheckFail(const std::string& service, const std::string& check, const Status& why,
                      const std::string& fix) {
  ErrorKind k = why.ok() ? ErrorKind::kInternal : why.kind();
  return CheckResult{service, check, false, why.message(), fix, k};
}

CheckResult CheckSecret(const std::string& service, const std::string& check, const std::string& path,
                        const std::string& config_key) {
  Status s = CheckSecretFile(path, config_key);
  if (s.kind() == ErrorKind::kCredentials) return CheckFail(service, check, s, "chmod 600 " + path);
  if (!s.ok()) {
    return CheckFail(service, check, s,
                     "create " + path + " (mode 0600) holding the secret, or point " + config_key + " at it");
  }
  auto bytes = ReadSecretFile(path, config_key);
  if (!bytes.ok()) return CheckFail(service, check, bytes.status(), "make " + path + " readable by this user");
  if (Trim(*bytes).empty()) {
    return CheckFail(service, check, Status::Config(config_key + " file " + path + " is empty"),
                     "write the secret into " + path);
  }
  return CheckPass(service, check, path + " present, mode 0600 or stricter");
}

namespace {

// A CA file must hold at least one PEM certificate that has not expired.
CheckResult CheckCaFile(const std::string& path) {
  const std::string fix = "set ncb.ca_file to a PEM file with the certificate of the CA that signed NCB's";
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (bio == nullptr) {
    ERR_clear_error();
    return CheckFail("ncb", "ca file", Status::Config("ncb.ca_file " + path + " cannot be read"), fix);
  }
  int certs = 0, expired = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    ++certs;
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) ++expired;
    X509_free(cert);
  }
  ERR_clear_error();
  BIO_free(bio);
  if (certs == 0) {
    return CheckFail("ncb", "ca file", Status::Config("ncb.ca_file " + path + " holds no PEM certificate"), fix);
  }
  if (expired == certs) {
    return CheckFail("ncb", "ca file", Status::Config("every certificate in ncb.ca_file " + path + " has expired"),
                     fix);
  }
  return CheckPass("ncb", "ca file", path + ": " + std::to_string(certs) + " certificate(s)");
}

CheckResult CheckNcbHealth(const Config& config, const CheckOptions& options) {
  auto client = MakeNcbHttpClient(config.ncb, options.log);
  if (!client.ok()) return CheckFail("ncb", "health", client.status(), "fix the checks above first");
  Status s = (*client)->Health();
  std::string where = RedactUrl(config.ncb.base_url) + "/health";
  if (s.ok()) return CheckPass("ncb", "health", "GET " + where + " accepted the key");
  std::string key_place = config.ncb.api_key_file.empty() ? "NCB_API_KEY" : config.ncb.api_key_file;
  switch (s.kind()) {
    case ErrorKind::kCredentials:
      return CheckFail("ncb", "health", s, "get a current API key from the NCB team and put it in " + key_place);
    case ErrorKind::kConfig:
      return CheckFail("ncb", "health", s,
                       "if NCB uses a private CA, set ncb.ca_file to its PEM certificate; otherwise check the URL");
    default:
      return CheckFail("ncb", "health", s,
                       "check that NCB is up and reachable from this host (firewall, https_proxy/no_proxy)");
  }
}

}  // namespace

std::vector<CheckResult> CheckNcb(const Config& config, const CheckOptions& options) {
  const NcbConfig& n = config.ncb;
  std::vector<CheckResult> out;
  if (n.base_url.empty()) {
    out.push_back(CheckFail("ncb", "base url", Status::Config("ncb.base_url is not set"),
                            "set NCB_API_BASE_URL (or ncb.base_url) to https://HOST/api/v1"));
    return out;
  }
  if (n.base_url.rfind("file://", 0) == 0) {
    FileOutboxClient outbox(n.base_url.substr(7));
    Status s = outbox.Health();
    out.push_back(s.ok() ? CheckPass("ncb", "outbox", "local outbox " + n.base_url.substr(7) + " (no NCB, no key)")
                         : CheckFail("ncb", "outbox", Status::Config(s.message()),
                                     "create the directory, writable by this user, or fix ncb.base_url"));
    return out;
  }
  Status url = CheckUrlAllowed(n.base_url);
  if (!url.ok()) {
    out.push_back(CheckFail("ncb", "base url", url, "use an https:// URL for ncb.base_url"));
    return out;
  }
  out.push_back(CheckPass("ncb", "base url", RedactUrl(n.base_url)));
  if (!n.api_key_file.empty()) {
    out.push_back(CheckSecret("ncb", "api key", n.api_key_file, "ncb.api_key_file"));
  } else if (!Trim(n.api_key).empty()) {
    out.push_back(CheckPass("ncb", "api key", "from NCB_API_KEY or ncb.api_key (a 0600 ncb.api_key_file is safer)"));
  } else {
    out.push_back(CheckFail("ncb", "api key", Status::Config("no NCB API key configured"),
                            "write the key to a file (chmod 600) and set ncb.api_key_file to it"));
  }
  if (!n.ca_file.empty()) out.push_back(CheckCaFile(n.ca_file));
  bool ready = std::all_of(out.begin(), out.end(), [](const CheckResult& r) { return r.ok; });
  if (options.live && ready) out.push_back(CheckNcbHealth(config, options));
  return out;
}

}  // namespace ncbocr
