// Tests of validate.h: the check framework and the NCB checker against the
// NCB double (plain loopback and TLS with a private CA).
#include "ncbocr/validate.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <stdexcept>

#include "ncb_double.h"

namespace ncbocr {
namespace {

using testing::ScratchDir;
namespace fs = std::filesystem;

const CheckResult* Find(const std::vector<CheckResult>& rs, const std::string& check) {
  for (const auto& r : rs) {
    if (r.check == check) return &r;
  }
  return nullptr;
}

struct NcbSetup {
  ScratchDir dir{"ncbocr-validate"};
  Config config;
  CheckOptions options;
  explicit NcbSetup(const std::string& base_url, const std::string& key = "secret-key", unsigned mode = 0600) {
    fs::path key_file = dir.path / "ncb.key";
    std::ofstream(key_file) << key << "\n";
    ::chmod(key_file.c_str(), mode);
    config.ncb.base_url = base_url;
    config.ncb.api_key_file = key_file.string();
    options.log = NullLogger();
  }
};

TEST_CASE("validate: exit code and output from a list of results") {
  auto pass = CheckPass("ncb", "api key", "fine");
  auto refused = CheckFail("ncb", "health", Status::Credentials("refused"), "get a new key");
  auto config = CheckFail("gmail", "token", Status::Config("missing"), "run ncbocr auth gmail");
  auto down = CheckFail("ncb", "health", Status::Unavailable("no answer"), "check NCB");
  CHECK(ChecksExitCode({pass}) == 0);
  CHECK(ChecksExitCode({}) == 78);
  CHECK(ChecksExitCode({pass, down}) == 69);
  CHECK(ChecksExitCode({pass, config, down}) == 78);
  CHECK(ChecksExitCode({config, refused, down}) == 77);

  std::string text = ChecksText({pass, refused});
  CHECK(text.find("SERVICE") != std::string::npos);
  CHECK(text.find("FAILED") != std::string::npos);
  CHECK(text.find("fix: get a new key") != std::string::npos);
  CHECK(text.find("1 of 2 checks failed") != std::string::npos);
  CHECK(ChecksText({pass}).find("all 1 checks passed") != std::string::npos);

  auto j = ChecksJson({pass, refused});
  CHECK(j["ok"] == false);
  CHECK(j["exit_code"] == 77);
  REQUIRE(j["checks"].size() == 2);
  CHECK(j["checks"][1]["kind"] == "credentials");
  CHECK(j["checks"][1]["fix"] == "get a new key");
}

TEST_CASE("validate: a registered checker runs; one that throws becomes a failure") {
  std::vector<NamedChecker> checkers = {
      {"fake", [](const Config&, const CheckOptions&) {
         return std::vector<CheckResult>{CheckPass("fake", "one", "ok")};
       }},
      {"broken", [](const Config&, const CheckOptions&) -> std::vector<CheckResult> {
         throw std::runtime_error("boom");
       }},
  };
  auto rs = RunChecks(Config{}, CheckOptions{}, checkers);
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].ok);
  CHECK_FALSE(rs[1].ok);
  CHECK(rs[1].service == "broken");
  CHECK(rs[1].kind == ErrorKind::kInternal);
  CHECK(ChecksExitCode(rs) == 70);
  std::vector<std::string> services;
  for (const auto& c : BuiltinCheckers()) services.push_back(c.service);
  CHECK(services == std::vector<std::string>{"gmail", "imap", "ncb", "drive", "sheets", "smtp"});
}

TEST_CASE("validate: secret files must exist, be 0600 and not be empty") {
  ScratchDir dir;
  fs::path p = dir.path / "secret";
  auto missing = CheckSecret("svc", "key", p.string(), "svc.key_file");
  CHECK_FALSE(missing.ok);
  CHECK(missing.kind == ErrorKind::kConfig);
  std::ofstream(p) << "s3cret\n";
  ::chmod(p.c_str(), 0640);
  auto open = CheckSecret("svc", "key", p.string(), "svc.key_file");
  CHECK(open.kind == ErrorKind::kCredentials);
  CHECK(open.fix == "chmod 600 " + p.string());
  CHECK(open.message.find("s3cret") == std::string::npos);
  ::chmod(p.c_str(), 0600);
  CHECK(CheckSecret("svc", "key", p.string(), "svc.key_file").ok);
  std::ofstream(p) << "\n";
  CHECK(CheckSecret("svc", "key", p.string(), "svc.key_file").kind == ErrorKind::kConfig);
}

TEST_CASE("validate: NCB with a good key passes every check, live") {
  auto& ncb = testing::SharedNcbDouble();
  REQUIRE(ncb.ok());
  NcbSetup s(ncb.base_url());
  auto rs = CheckNcb(s.config, s.options);
  CHECK(ChecksExitCode(rs) == 0);
  REQUIRE(Find(rs, "health") != nullptr);
  CHECK(Find(rs, "health")->ok);
  CHECK(ncb.Dump()["requests"].size() == 1);

  s.options.live = false;
  auto offline = CheckNcb(s.config, s.options);
  CHECK(Find(offline, "health") == nullptr);
  CHECK(ncb.Dump()["requests"].size() == 1);  // no call made
}

TEST_CASE("validate: NCB failures say what to fix, with the right exit code") {
  auto& ncb = testing::SharedNcbDouble();
  REQUIRE(ncb.ok());
  SUBCASE("a refused key") {
    NcbSetup s(ncb.base_url(), "old-key");
    auto rs = CheckNcb(s.config, s.options);
    CHECK(ChecksExitCode(rs) == 77);
    CHECK(Find(rs, "health")->fix.find(s.config.ncb.api_key_file) != std::string::npos);
    for (const auto& r : rs) CHECK(r.message.find("old-key") == std::string::npos);
  }
  SUBCASE("a key file others can read: no live call is made") {
    NcbSetup s(ncb.base_url(), "secret-key", 0644);
    auto rs = CheckNcb(s.config, s.options);
    CHECK(ChecksExitCode(rs) == 77);
    CHECK(Find(rs, "api key")->fix.rfind("chmod 600", 0) == 0);
    CHECK(Find(rs, "health") == nullptr);
    CHECK(ncb.Dump()["requests"].empty());
  }
  SUBCASE("no URL, or plain http to a remote host") {
    NcbSetup s("");
    CHECK(ChecksExitCode(CheckNcb(s.config, s.options)) == 78);
    s.config.ncb.base_url = "http://ncb.internal.example/api/v1";
    auto rs = CheckNcb(s.config, s.options);
    CHECK(ChecksExitCode(rs) == 78);
    CHECK(Find(rs, "base url")->fix.find("https://") != std::string::npos);
  }
  SUBCASE("no key at all") {
    NcbSetup s(ncb.base_url());
    s.config.ncb.api_key_file.clear();
    CHECK(ChecksExitCode(CheckNcb(s.config, s.options)) == 78);
    s.config.ncb.api_key = "secret-key";  // from NCB_API_KEY
    CHECK(ChecksExitCode(CheckNcb(s.config, s.options)) == 0);
  }
  SUBCASE("NCB down") {
    NcbSetup s("http://127.0.0.1:1/api/v1");
    s.config.ncb.connect_timeout = 2;
    auto rs = CheckNcb(s.config, s.options);
    CHECK(ChecksExitCode(rs) == 69);
    CHECK(Find(rs, "health")->kind == ErrorKind::kUnavailable);
  }
  SUBCASE("a local outbox needs no key") {
    NcbSetup s("");
    s.config.ncb.base_url = "file://" + (s.dir.path / "outbox").string();
    s.config.ncb.api_key_file.clear();
    auto rs = CheckNcb(s.config, s.options);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].ok);
  }
}

TEST_CASE("validate: NCB behind a private CA needs ncb.ca_file") {
  auto& tls = testing::SharedTlsNcbDouble();
  REQUIRE(tls.ok());
  auto& ncb = tls.ncb;
  NcbSetup s(ncb.base_url());
  auto without = CheckNcb(s.config, s.options);
  CHECK(ChecksExitCode(without) == 78);
  CHECK(Find(without, "health")->fix.find("ncb.ca_file") != std::string::npos);

  s.config.ncb.ca_file = (tls.certs.path / "server.key").string();  // not a certificate
  auto not_pem = CheckNcb(s.config, s.options);
  CHECK_FALSE(Find(not_pem, "ca file")->ok);
  CHECK(Find(not_pem, "health") == nullptr);

  s.config.ncb.ca_file = tls.ca_file;
  auto with = CheckNcb(s.config, s.options);
  CHECK(ChecksExitCode(with) == 0);
  CHECK(Find(with, "ca file")->ok);
}

// --- the Gmail, IMAP, Drive, Sheets and SMTP checkers, offline (the live
// calls are tested against the doubles in tests/cli/validate_credentials.sh
// and tests/cli/imap.sh) ---

TEST_CASE("validate: services that are not configured are not checked") {
  Config config;  // fetch.source maildir, no Drive, no Sheet, alerts off
  CheckOptions options;
  options.live = false;
  options.log = NullLogger();
  CHECK(CheckGmail(config, options).empty());
  CHECK(CheckImap(config, options).empty());
  CHECK(CheckDrive(config, options).empty());
  CHECK(CheckSheets(config, options).empty());
  CHECK(CheckSmtp(config, options).empty());
}

TEST_CASE("validate: Gmail token file checks, offline") {
  ScratchDir dir("ncbocr-validate-gmail");
  fs::path token = dir.path / "token.json";
  std::ofstream(token) << R"({"token": "", "refresh_token": "1//r", "client_id": "c", "client_secret": "s",
                             "token_uri": "https://oauth2.googleapis.com/token"})";
  ::chmod(token.c_str(), 0600);
  Config config;
  config.fetch.source = "gmail";
  config.gmail.token_path = token.string();
  CheckOptions options;
  options.live = false;
  options.log = NullLogger();
  auto ok = CheckGmail(config, options);
  REQUIRE(Find(ok, "token parses") != nullptr);
  CHECK(Find(ok, "token parses")->ok);
  CHECK(ChecksExitCode(ok) == 0);

  ::chmod(token.c_str(), 0640);  // group-readable: refused before it is read
  auto open = CheckGmail(config, options);
  REQUIRE(Find(open, "token file") != nullptr);
  CHECK(Find(open, "token file")->kind == ErrorKind::kCredentials);
  CHECK(Find(open, "token file")->fix == "chmod 600 " + token.string());
  CHECK(ChecksExitCode(open) == 77);

  ::chmod(token.c_str(), 0600);
  std::ofstream(token) << R"({"token": "x"})";  // no refresh token
  auto bad = CheckGmail(config, options);
  REQUIRE(Find(bad, "token parses") != nullptr);
  CHECK_FALSE(Find(bad, "token parses")->ok);
  CHECK(Find(bad, "token parses")->fix.find("ncbocr auth gmail") != std::string::npos);
  CHECK(ChecksExitCode(bad) == 78);
}

TEST_CASE("validate: Drive and Sheets key files, offline") {
  ScratchDir dir("ncbocr-validate-sa");
  fs::path key = dir.path / "sa.json";
  std::ofstream(key) << R"({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com",
                           "private_key": "not a key"})";
  ::chmod(key.c_str(), 0600);
  Config config;
  config.archive.drive_folder_id = "FOLDER";
  config.archive.drive_credentials_path = key.string();
  config.archive.sheets_spreadsheet_id = "SHEET";  // but no key file for it
  CheckOptions options;
  options.live = false;
  options.log = NullLogger();
  auto drive = CheckDrive(config, options);
  REQUIRE(Find(drive, "key parses") != nullptr);
  CHECK_FALSE(Find(drive, "key parses")->ok);  // a key that cannot sign a JWT
  CHECK(ChecksExitCode(drive) == 78);
  auto sheets = CheckSheets(config, options);
  REQUIRE(Find(sheets, "key file") != nullptr);
  CHECK(Find(sheets, "key file")->fix.find("archive.sheets_credentials_path") != std::string::npos);
}

TEST_CASE("validate: IMAP and SMTP settings, offline") {
  ScratchDir dir("ncbocr-validate-mail");
  fs::path pw = dir.path / "pw";
  std::ofstream(pw) << "secret\n";
  ::chmod(pw.c_str(), 0644);
  Config config;
  config.fetch.source = "imap";
  config.imap.url = "imap://mail.example.com/INBOX";  // plain IMAP off the host
  config.imap.username = "clerk";
  config.imap.password_file = pw.string();
  CheckOptions options;
  options.live = false;
  options.log = NullLogger();
  auto plain = CheckImap(config, options);
  REQUIRE(Find(plain, "url") != nullptr);
  CHECK(Find(plain, "url")->kind == ErrorKind::kConfig);
  config.imap.url = "imaps://mail.example.com/INBOX";
  auto open = CheckImap(config, options);
  REQUIRE(Find(open, "password file") != nullptr);
  CHECK(Find(open, "password file")->kind == ErrorKind::kCredentials);
  ::chmod(pw.c_str(), 0600);
  CHECK(ChecksExitCode(CheckImap(config, options)) == 0);

  config.alerts.enabled = true;
  auto smtp = CheckSmtp(config, options);
  REQUIRE(Find(smtp, "host") != nullptr);
  CHECK(Find(smtp, "host")->kind == ErrorKind::kConfig);
  config.alerts.smtp_host = "relay.example.com";
  config.alerts.smtp_username = "ncbocr";  // a login without a password
  auto nopw = CheckSmtp(config, options);
  CHECK(Find(nopw, "recipients") != nullptr);
  CHECK(Find(nopw, "password") != nullptr);
  CHECK(ChecksExitCode(nopw) == 78);
}

}  // namespace
}  // namespace ncbocr
