#include "ncbocr/config.h"

#include <sys/stat.h>

#include <fstream>
#include <map>

#include <doctest/doctest.h>

#include "test_util.h"

using namespace ncbocr;
using ncbocr::testing::TempDir;

namespace {

std::map<std::string, std::string> g_env;
std::optional<std::string> FakeEnv(const char* name) {
  auto it = g_env.find(name);
  if (it == g_env.end()) return std::nullopt;
  return it->second;
}

std::string Write(const TempDir& t, const std::string& yaml, unsigned mode = 0644) {
  std::string p = (t.path() / "c.yaml").string();
  std::ofstream(p) << yaml;
  ::chmod(p.c_str(), mode);
  return p;
}

}  // namespace

TEST_CASE("config: defaults are valid") {
  g_env.clear();
  auto c = LoadConfig("", {}, FakeEnv);
  REQUIRE(c.ok());
  CHECK(c->spool == "/var/spool/ncbocr");
  CHECK(c->extract.high_confidence_threshold == doctest::Approx(0.90));
  CHECK(c->ocr.languages == std::vector<std::string>{"eng", "msa"});
}

TEST_CASE("config: the documented example loads and matches the defaults") {
  g_env.clear();
  auto c = LoadConfig(std::string(NCBOCR_SOURCE_DIR) + "/config/ncbocr.example.yaml", {}, FakeEnv);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  Config d;
  CHECK(c->spool == d.spool);
  CHECK(c->fetch.max_attachment_bytes == d.fetch.max_attachment_bytes);
  CHECK(c->ncb.field_map == d.ncb.field_map);
  CHECK(c->gmail.query == d.gmail.query);
  CHECK(c->backup.keep_days == d.backup.keep_days);
  CHECK(c->ocr.max_claim_pixels == d.ocr.max_claim_pixels);
  CHECK(c->ocr.max_email_pixels == d.ocr.max_email_pixels);
  CHECK(c->ocr.worker_memory_mb == d.ocr.worker_memory_mb);
  CHECK(c->ocr.page_timeout == d.ocr.page_timeout);
  CHECK(c->ocr.claim_timeout == d.ocr.claim_timeout);
  CHECK(c->ocr.max_attempts == d.ocr.max_attempts);
}

TEST_CASE("config: OCR budgets, time limits and attempts") {
  g_env.clear();
  TempDir t;
  auto ok = LoadConfig(Write(t,
                             "ocr:\n  max_claim_pixels: 100000000\n  max_email_pixels: 150000000\n"
                             "  worker_memory_mb: 450\n  page_timeout: 0\n  claim_timeout: 20\n"
                             "  max_attempts: 2\n"),
                       {}, FakeEnv);
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->ocr.max_claim_pixels == 100000000);
  CHECK(ok->ocr.max_email_pixels == 150000000);
  CHECK(ok->ocr.worker_memory_mb == 450);
  CHECK(ok->ocr.page_timeout == 0);
  CHECK(ok->ocr.claim_timeout == 20);
  CHECK(ok->ocr.max_attempts == 2);
  // A claim holds at least one page, an email at least one claim.
  auto a = LoadConfig(Write(t, "ocr:\n  max_claim_pixels: 1000\n"), {}, FakeEnv);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().message().find("ocr.max_claim_pixels") != std::string::npos);
  auto b = LoadConfig(Write(t, "ocr:\n  max_email_pixels: 100000000\n"), {}, FakeEnv);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("ocr.max_email_pixels") != std::string::npos);
  CHECK_FALSE(LoadConfig(Write(t, "ocr:\n  claim_timeout: -1\n"), {}, FakeEnv).ok());
  CHECK_FALSE(LoadConfig(Write(t, "ocr:\n  max_attempts: 0\n"), {}, FakeEnv).ok());
  CHECK_FALSE(LoadConfig(Write(t, "ocr:\n  worker_memory_mb: 10\n"), {}, FakeEnv).ok());
}

TEST_CASE("config: OCR engine and models directory, from the file and the environment") {
  g_env.clear();
  TempDir t;
  auto d = LoadConfig("", {}, FakeEnv);
  REQUIRE(d.ok());
  CHECK(d->ocr.engine == "auto");  // both engines where the models are installed
  CHECK(d->ocr.models_dir.empty());
  auto f = LoadConfig(Write(t, "ocr:\n  engine: paddle\n  models_dir: models\n"), {}, FakeEnv);
  REQUIRE_MESSAGE(f.ok(), f.status().ToString());
  CHECK(f->ocr.engine == "paddle");
  CHECK(f->ocr.models_dir == (t.path() / "models").string());  // relative to the file
  auto bad = LoadConfig(Write(t, "ocr:\n  engine: easyocr\n"), {}, FakeEnv);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("ocr.engine") != std::string::npos);
  g_env = {{"OCR_ENGINE", "paddle"}, {"OCR_MODELS_DIR", "/srv/models"}};
  auto e = LoadConfig("", {}, FakeEnv);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  CHECK(e->ocr.engine == "paddle");
  CHECK(e->ocr.models_dir == "/srv/models");
  g_env = {{"OCR_ENGINE", "nope"}};
  auto eb = LoadConfig("", {}, FakeEnv);
  REQUIRE_FALSE(eb.ok());
  CHECK(eb.status().message().find("OCR_ENGINE") != std::string::npos);
  g_env.clear();
}

TEST_CASE("config: two engines and when the second reads") {
  g_env.clear();
  TempDir t;
  auto d = LoadConfig("", {}, FakeEnv);
  REQUIRE(d.ok());
  CHECK(d->ocr.second_reading == "unsettled+header");
  auto f = LoadConfig(Write(t, "ocr:\n  engine: tesseract+paddle\n  second_reading: always\n"), {}, FakeEnv);
  REQUIRE_MESSAGE(f.ok(), f.status().ToString());
  CHECK(f->ocr.engine == "tesseract+paddle");
  CHECK(f->ocr.second_reading == "always");
  auto u = LoadConfig(Write(t, "ocr:\n  second_reading: unsettled\n"), {}, FakeEnv);
  REQUIRE(u.ok());
  CHECK(u->ocr.second_reading == "unsettled");
  auto bad = LoadConfig(Write(t, "ocr:\n  second_reading: sometimes\n"), {}, FakeEnv);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("ocr.second_reading") != std::string::npos);
  g_env = {{"OCR_ENGINE", "tesseract+paddle"}, {"OCR_SECOND_READING", "always"}};
  auto e = LoadConfig("", {}, FakeEnv);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  CHECK(e->ocr.engine == "tesseract+paddle");
  CHECK(e->ocr.second_reading == "always");
  g_env.clear();
}

TEST_CASE("config: an unknown key names the key and the file") {
  g_env.clear();
  TempDir t;
  std::string p = Write(t, "ocr:\n  langauges: [eng]\n");
  auto c = LoadConfig(p, {}, FakeEnv);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().kind() == ErrorKind::kConfig);
  CHECK(c.status().exit_code() == 78);
  CHECK(c.status().message().find("ocr.langauges") != std::string::npos);
  CHECK(c.status().message().find(p) != std::string::npos);

  auto top = LoadConfig(Write(t, "spoool: /x\n"), {}, FakeEnv);
  REQUIRE_FALSE(top.ok());
  CHECK(top.status().message().find("'spoool'") != std::string::npos);
}

TEST_CASE("config: a list or mapping used as a key is a configuration error, not a crash") {
  // Found by the config fuzz target (fuzz/regressions/config/): yaml-cpp threw
  // out of the schema walk and the process aborted.
  g_env.clear();
  TempDir t;
  auto top = LoadConfig(Write(t, "? [spool]\n: /x\n"), {}, FakeEnv);
  REQUIRE_FALSE(top.ok());
  CHECK(top.status().exit_code() == 78);
  CHECK(top.status().message().find("not a name") != std::string::npos);
  CHECK(top.status().message().find("top level") != std::string::npos);

  auto nested = LoadConfig(Write(t, "ocr:\n  {a: b}: 1\n"), {}, FakeEnv);
  REQUIRE_FALSE(nested.ok());
  CHECK(nested.status().message().find("under 'ocr'") != std::string::npos);
}

TEST_CASE("config: wrong types and impossible values are refused") {
  g_env.clear();
  TempDir t;
  auto a = LoadConfig(Write(t, "ocr:\n  workers: many\n"), {}, FakeEnv);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().message().find("ocr.workers") != std::string::npos);
  CHECK(a.status().message().find("integer") != std::string::npos);

  auto b = LoadConfig(Write(t, "extract:\n  high_confidence_threshold: 1.5\n"), {}, FakeEnv);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("extract.high_confidence_threshold") != std::string::npos);

  auto c = LoadConfig(Write(t, "ocr:\n  languages: eng\n"), {}, FakeEnv);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("list") != std::string::npos);

  auto d = LoadConfig(Write(t, "ncb:\n  base_url: http://ncb.example.com/api\n"), {}, FakeEnv);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("loopback") != std::string::npos);

  auto spoof = LoadConfig(Write(t, "ncb:\n  base_url: http://127.evil.example/api\n"), {}, FakeEnv);
  REQUIRE_FALSE(spoof.ok());
  CHECK(LoadConfig(Write(t, "ncb:\n  base_url: http://127.0.0.1:8080/api\n"), {}, FakeEnv).ok());

  auto e = LoadConfig(Write(t, "ncb:\n  field_map:\n    \"Claim Amount\": totl\n"), {}, FakeEnv);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("totl") != std::string::npos);

  auto f = LoadConfig(Write(t, "spool: [\n"), {}, FakeEnv);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().kind() == ErrorKind::kConfig);

  CHECK_FALSE(LoadConfig((t.path() / "missing.yaml").string(), {}, FakeEnv).ok());
}

TEST_CASE("config: environment overrides the file, flags override both") {
  TempDir t;
  std::string p = Write(t, "spool: /from/file\nlog:\n  level: warn\nocr:\n  batch_size: 3\n");
  g_env = {{"LOG_LEVEL", "debug"}, {"OCR_BATCH_SIZE", "5"}, {"ALERT_RECIPIENTS", "a@x.my, b@x.my"},
           {"METRICS_ENABLED", "1"}, {"NCB_API_BASE_URL", "https://ncb.internal.example/api/v1"}};
  auto c = LoadConfig(p, {}, FakeEnv);
  REQUIRE(c.ok());
  CHECK(c->spool == "/from/file");
  CHECK(c->log.level == "debug");
  CHECK(c->ocr.batch_size == 5);
  CHECK(c->alerts.recipients == std::vector<std::string>{"a@x.my", "b@x.my"});
  CHECK(c->metrics.enabled);
  CHECK(c->ncb.base_url == "https://ncb.internal.example/api/v1");

  ConfigOverrides o;
  o.spool = "/from/flag";
  o.log_level = "error";
  auto d = LoadConfig(p, o, FakeEnv);
  REQUIRE(d.ok());
  CHECK(d->spool == "/from/flag");
  CHECK(d->log.level == "error");

  g_env = {{"OCR_BATCH_SIZE", "lots"}};
  auto bad = LoadConfig(p, {}, FakeEnv);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("OCR_BATCH_SIZE") != std::string::npos);
  g_env.clear();
}

TEST_CASE("config: a bad value from the environment names the variable, not the file") {
  TempDir t;
  std::string p = Write(t, "spool: /s\n");
  g_env = {{"OCR_USE_GPU", "yes"}};
  auto c = LoadConfig(p, {}, FakeEnv);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().exit_code() == 78);
  CHECK(c.status().message().find("environment variable OCR_USE_GPU") != std::string::npos);
  CHECK(c.status().message().find(p) == std::string::npos);
  // The same value in the file is blamed on the file.
  g_env.clear();
  auto f = LoadConfig(Write(t, "spool: /s\nocr:\n  use_gpu: yes-please\n"), {}, FakeEnv);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().message().find(p) != std::string::npos);
}

TEST_CASE("config: LOG_LEVEL in capitals, and per-host keys from the environment") {
  TempDir t;
  std::string p = Write(t, "spool: /s\n");
  g_env = {{"LOG_LEVEL", "INFO"}, {"FETCH_SOURCE", "imap"}, {"IMAP_URL", "imaps://mail.example:993/INBOX"},
           {"IMAP_USERNAME", "claims"}, {"OCR_WORKERS", "3"}, {"FETCH_PATH", "/var/mail/claims"}};
  auto c = LoadConfig(p, {}, FakeEnv);
  REQUIRE(c.ok());
  CHECK(c->log.level == "info");
  CHECK(c->fetch.source == "imap");
  CHECK(c->imap.url == "imaps://mail.example:993/INBOX");
  CHECK(c->imap.username == "claims");
  CHECK(c->ocr.workers == 3);
  CHECK(c->fetch.path == "/var/mail/claims");
  g_env = {{"FETCH_SOURCE", "pop3"}};
  auto bad = LoadConfig(p, {}, FakeEnv);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("FETCH_SOURCE") != std::string::npos);
  g_env.clear();
}

TEST_CASE("config: a key written twice is refused, naming both lines") {
  g_env.clear();
  TempDir t;
  std::string p = Write(t, "spool: /a\nocr:\n  workers: 2\n  psm: 4\n  workers: 4\n");
  auto c = LoadConfig(p, {}, FakeEnv);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().exit_code() == 78);
  CHECK(c.status().message().find("'ocr.workers' appears twice") != std::string::npos);
  CHECK(c.status().message().find("lines 3 and 5") != std::string::npos);
  CHECK(c.status().message().find(p) != std::string::npos);
  auto top = LoadConfig(Write(t, "spool: /a\nspool: /b\n"), {}, FakeEnv);
  REQUIRE_FALSE(top.ok());
  CHECK(top.status().message().find("lines 1 and 2") != std::string::npos);
}

TEST_CASE("config: relative paths are relative to the file") {
  g_env.clear();
  TempDir t;
  auto c = LoadConfig(Write(t, "spool: var/spool\nncb:\n  base_url: file://out\n"), {}, FakeEnv);
  REQUIRE(c.ok());
  CHECK(c->spool == (t.path() / "var/spool").string());
  CHECK(c->ncb.base_url == "file://" + (t.path() / "out").string());
}

TEST_CASE("config: a world-readable file holding a secret is refused") {
  g_env.clear();
  TempDir t;
  auto open = LoadConfig(Write(t, "ncb:\n  api_key: s3cret\n", 0644), {}, FakeEnv);
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().message().find("chmod 600") != std::string::npos);
  CHECK(open.status().message().find("s3cret") == std::string::npos);
  auto closed = LoadConfig(Write(t, "ncb:\n  api_key: s3cret\n", 0600), {}, FakeEnv);
  CHECK(closed.ok());
}

TEST_CASE("config: secret files must not be readable by group or others") {
  TempDir t;
  std::string p = (t.path() / "token.json").string();
  std::ofstream(p) << "secret\n";
  ::chmod(p.c_str(), 0644);
  Status s = CheckSecretFile(p, "Gmail token");
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find(p) != std::string::npos);
  CHECK(s.message().find("0644") != std::string::npos);
  CHECK(s.message().find("chmod 600") != std::string::npos);
  ::chmod(p.c_str(), 0640);
  CHECK_FALSE(CheckSecretFile(p, "Gmail token").ok());
  ::chmod(p.c_str(), 0600);
  CHECK(CheckSecretFile(p, "Gmail token").ok());
  auto v = ReadSecretFile(p, "Gmail token");
  REQUIRE(v.ok());
  CHECK(*v == "secret");
  CHECK_FALSE(CheckSecretFile((t.path() / "none").string(), "x").ok());
}
