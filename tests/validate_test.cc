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
  CHECK_FALSE(BuiltinCheckers().empty());
  CHECK(BuiltinCheckers()[0].service == "ncb");
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

}  // namespace
}  // namespace ncbocr
