#include "ncbocr/alerts.h"

#include <doctest/doctest.h>

#include <gmime/gmime.h>

#include "ncbocr/email.h"
#include "ncbocr/mime.h"
#include "ncbocr/smtp.h"
#include "ncbocr/util.h"
#include "test_util.h"

using namespace ncbocr;
using ncbocr::testing::PutClaim;
using ncbocr::testing::TempDir;

namespace {

struct Sent {
  std::string from;
  std::vector<std::string> to;
  std::string message;
};

// Records what would have gone to the SMTP server; can be told to fail.
class FakeSender : public MailSender {
 public:
  Status Send(const std::string& from, const std::vector<std::string>& to, const std::string& message) override {
    if (!fail.ok()) return fail;
    sent.push_back({from, to, message});
    return Status::Ok();
  }
  std::vector<Sent> sent;
  Status fail;
};

std::string Subject(const Sent& s) {
  auto p = s.message.find("\r\nSubject: ");
  REQUIRE(p != std::string::npos);
  p += 11;
  return s.message.substr(p, s.message.find("\r\n", p) - p);
}

struct Fixture {
  TempDir t;
  Config config;
  Spool spool = *Spool::Open(t.path());
  FakeSender sender;
  TimePoint now = std::chrono::system_clock::now();
  Fixture() {
    config.alerts.enabled = true;
    config.alerts.smtp_host = "127.0.0.1";
    config.alerts.recipients = {"ops@example.com", "Claims Lead <lead@example.com>"};
    config.alerts.from = "ncbocr <ncbocr@tpa.example>";
    config.health.min_free_percent = 0;  // the test machine's disk is not under test
  }
  AlertCheckReport Check() {
    auto r = CheckAlerts(config, spool, sender, now, NullLogger());
    REQUIRE(r.ok());
    return *r;
  }
  void StageRecord(const std::string& stage, int exit_code, int failures, TimePoint started) {
    nlohmann::json run = {{"stage", stage}, {"started_at", IsoUtc(started)}, {"exit_code", exit_code},
                          {"consecutive_failures", failures},
                          {"result", exit_code == 0 ? "ok" : "internal error: boom"}};
    REQUIRE(spool.WriteStageRun(stage, run).ok());
  }
};

}  // namespace

TEST_CASE("smtp: the message has the headers mail systems expect, CRLF line ends, no injection") {
  AlertConfig c;
  c.from = "ncbocr <ncbocr@tpa.example>";
  c.recipients = {"ops@example.com", "b@example.com"};
  MailMessage m;
  m.subject = "ALERT: ocr\r\nBcc: evil@example.com";
  m.body = "line one\nline two\n";
  std::string msg = BuildMessage(c, m, std::chrono::system_clock::now());
  CHECK(msg.find("Date: ") == 0);
  CHECK(msg.find("\r\nFrom: ncbocr <ncbocr@tpa.example>\r\n") != std::string::npos);
  CHECK(msg.find("\r\nTo: ops@example.com, b@example.com\r\n") != std::string::npos);
  CHECK(msg.find("\r\nSubject: ALERT: ocr  Bcc: evil@example.com\r\n") != std::string::npos);
  CHECK(msg.find("\r\nBcc:") == std::string::npos);
  CHECK(msg.find("@tpa.example>\r\n") != std::string::npos);  // Message-ID in the sender's domain
  CHECK(msg.find("\r\nMessage-ID: <") != std::string::npos);
  CHECK(msg.find("\r\nMIME-Version: 1.0\r\n") != std::string::npos);
  CHECK(msg.find("\r\nContent-Type: text/plain; charset=UTF-8\r\n") != std::string::npos);
  CHECK(msg.find("\r\n\r\nline one\r\nline two\r\n") != std::string::npos);
  // No bare LF anywhere.
  for (size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '\n') REQUIRE((i > 0 && msg[i - 1] == '\r'));
  }
}

TEST_CASE("smtp: non-ASCII subjects are RFC 2047 words and bodies quoted-printable") {
  AlertConfig c;
  c.recipients = {"ops@example.com"};
  MailMessage m;
  m.subject = "Tuntutan perlu semakan — 2";
  m.body = "Klinik Ñ = ok\n";
  std::string msg = BuildMessage(c, m, std::chrono::system_clock::now());
  CHECK(AsciiLower(msg).find("\r\nsubject: tuntutan perlu semakan =?utf-8?b?") != std::string::npos);
  CHECK(msg.find("Content-Transfer-Encoding: quoted-printable") != std::string::npos);
  CHECK(msg.find("Klinik =C3=91 =3D ok\r\n") != std::string::npos);
  // A mail reader decodes the subject back to what was written, however
  // long (GMime splits it into words between characters).
  m.subject = std::string("索赔需要审核 ") + std::string(40, 'x') + " 索赔需要审核索赔需要审核索赔需要审核";
  msg = BuildMessage(c, m, std::chrono::system_clock::now());
  size_t s = msg.find("\r\nSubject: ") + 11;
  std::string encoded = msg.substr(s, msg.find("\r\n", s) - s);
  CHECK(encoded.find("\xE7") == std::string::npos);  // no raw UTF-8 in the header
  InitGMime();
  char* decoded = g_mime_utils_header_decode_text(nullptr, encoded.c_str());
  CHECK(std::string(decoded) == m.subject);
  g_free(decoded);
  CHECK(AddressOf("Claims Lead <lead@example.com>") == "lead@example.com");
  CHECK(AddressOf(" ops@example.com ") == "ops@example.com");
}

TEST_CASE("alerts: a failing stage alerts once when it starts and once when it clears") {
  Fixture f;
  f.StageRecord("ocr", 70, 3, f.now);
  auto r = f.Check();
  REQUIRE(f.sender.sent.size() == 1);
  CHECK(Subject(f.sender.sent[0]).find("ALERT: ocr stage failing") != std::string::npos);
  CHECK(f.sender.sent[0].message.find("internal error: boom") != std::string::npos);
  CHECK(f.sender.sent[0].to == f.config.alerts.recipients);
  CHECK(r.raised == std::vector<std::string>{"stage_failing:ocr"});

  f.Check();
  f.Check();
  CHECK(f.sender.sent.size() == 1);

  f.StageRecord("ocr", 0, 0, f.now);
  r = f.Check();
  REQUIRE(f.sender.sent.size() == 2);
  CHECK(Subject(f.sender.sent[1]).find("RESOLVED: ocr stage failing") != std::string::npos);
  CHECK(r.cleared == std::vector<std::string>{"stage_failing:ocr"});
  f.Check();
  CHECK(f.sender.sent.size() == 2);
}

TEST_CASE("alerts: two failures in a row are not yet an alert") {
  Fixture f;
  f.StageRecord("extract", 75, 2, f.now);
  f.Check();
  CHECK(f.sender.sent.empty());
}

TEST_CASE("alerts: a send that fails is retried on the next check") {
  Fixture f;
  f.StageRecord("submit", 70, 5, f.now);
  f.sender.fail = Status::Unavailable("connection refused");
  auto r = CheckAlerts(f.config, f.spool, f.sender, f.now, NullLogger());
  CHECK(r.status().kind() == ErrorKind::kUnavailable);
  f.sender.fail = Status::Ok();
  f.Check();
  REQUIRE(f.sender.sent.size() == 1);
  CHECK(Subject(f.sender.sent[0]).find("ALERT: submit stage failing") != std::string::npos);
}

TEST_CASE("alerts: NCB down longer than alert_after, with the claims queued; clears on the next accepted claim") {
  Fixture f;
  f.config.ncb.alert_after = 900;
  Claim a = PutClaim(f.spool, ClaimState::kReady, "a");
  PutClaim(f.spool, ClaimState::kReady, "b");
  REQUIRE(f.spool.Defer(a, ClaimState::kReady, std::chrono::seconds(60), "submit",
                        "NCB unreachable: Connection refused").ok());
  f.now = std::chrono::system_clock::now() + std::chrono::minutes(10);
  f.Check();
  CHECK(f.sender.sent.empty());

  f.now = std::chrono::system_clock::now() + std::chrono::minutes(20);
  f.Check();
  REQUIRE(f.sender.sent.size() == 1);
  CHECK(Subject(f.sender.sent[0]).find("ALERT: NCB unavailable") != std::string::npos);
  CHECK(f.sender.sent[0].message.find("2 claims are queued") != std::string::npos);
  CHECK(f.sender.sent[0].message.find("Connection refused") != std::string::npos);

  REQUIRE(f.spool.Move(a, ClaimState::kReady, "submit", "attempt 2").ok());
  REQUIRE(f.spool.Move(a, ClaimState::kSubmitted, "submit", "").ok());
  f.Check();
  REQUIRE(f.sender.sent.size() == 2);
  CHECK(Subject(f.sender.sent[1]).find("RESOLVED: NCB unavailable") != std::string::npos);
}

TEST_CASE("alerts: refused credentials alert at once, and say which") {
  Fixture f;
  f.config.fetch.source = "gmail";
  f.StageRecord("submit", 77, 1, f.now);
  f.StageRecord("fetch", 77, 4, f.now);
  auto r = f.Check();
  REQUIRE(f.sender.sent.size() == 2);
  std::string subjects = Subject(f.sender.sent[0]) + "|" + Subject(f.sender.sent[1]);
  CHECK(subjects.find("NCB refused the API key") != std::string::npos);
  CHECK(subjects.find("Gmail token invalid") != std::string::npos);
  // Not also a "stage failing" alert for the same cause.
  CHECK(subjects.find("stage failing") == std::string::npos);
}

TEST_CASE("alerts: a stage that has not run within its interval, and a full disk") {
  Fixture f;
  f.StageRecord("fetch", 0, 0, f.now - std::chrono::hours(1));
  f.config.health.min_free_percent = 101;  // any disk is "low"
  f.Check();
  REQUIRE(f.sender.sent.size() == 2);
  std::string subjects = Subject(f.sender.sent[0]) + "|" + Subject(f.sender.sent[1]);
  CHECK(subjects.find("ALERT: fetch stage not running") != std::string::npos);
  CHECK(subjects.find("ALERT: disk space low") != std::string::npos);
}

TEST_CASE("alerts: claims newly waiting for a person are batched, once, with id, state and reason only") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kFetched, "a");
  EmailInfo e;
  e.from_address = "member@example.com";
  e.subject = "Claim for Siti binti Ahmad";
  e.text = "My policy number is POL-2024-00123";
  REQUIRE(f.spool.WriteClaimFile(a, "email.json", e.ToJson().dump()).ok());
  REQUIRE(f.spool.Move(a, ClaimState::kReview, "extract", "total unreadable").ok());
  Claim b = PutClaim(f.spool, ClaimState::kFailed, "b");

  auto r = f.Check();
  REQUIRE(f.sender.sent.size() == 1);
  const std::string& msg = f.sender.sent[0].message;
  CHECK(Subject(f.sender.sent[0]).find("2 claims need a person") != std::string::npos);
  CHECK(msg.find(a.id) != std::string::npos);
  CHECK(msg.find(b.id) != std::string::npos);
  CHECK(msg.find("member@example.com") == std::string::npos);  // personal data stays on the server
  CHECK(msg.find("exceptions show") != std::string::npos);
  CHECK(msg.find("total unreadable") != std::string::npos);
  CHECK(msg.find("Siti") == std::string::npos);
  CHECK(msg.find("POL-2024") == std::string::npos);
  CHECK(r.new_claims.size() == 2);

  f.Check();
  CHECK(f.sender.sent.size() == 1);

  Claim c = PutClaim(f.spool, ClaimState::kReview, "c");
  f.Check();
  REQUIRE(f.sender.sent.size() == 2);
  CHECK(f.sender.sent[1].message.find(c.id) != std::string::npos);
  CHECK(f.sender.sent[1].message.find(a.id) == std::string::npos);
}

TEST_CASE("alerts: an overlapping check sends nothing") {
  Fixture f;
  PutClaim(f.spool, ClaimState::kReview, "a");
  auto held = f.spool.TryLockStage("alerts");
  REQUIRE(held->held());
  auto r = f.Check();
  CHECK(r.skipped_locked);
  CHECK(f.sender.sent.empty());
}

TEST_CASE("alerts: the daily summary counts the last 24 hours") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kOcred, "a");
  Claim b = PutClaim(f.spool, ClaimState::kOcred, "b");
  Claim c = PutClaim(f.spool, ClaimState::kOcred, "c");
  c.source.email_id = "mail-2";  // a and b came in one email
  REQUIRE(f.spool.SaveManifest(c).ok());
  a.confidence = 0.9;
  c.confidence = 0.7;
  REQUIRE(f.spool.SaveManifest(a).ok());
  REQUIRE(f.spool.SaveManifest(c).ok());
  REQUIRE(f.spool.Move(a, ClaimState::kReady, "extract", "").ok());
  REQUIRE(f.spool.Move(c, ClaimState::kReview, "extract", "no total").ok());
  REQUIRE(f.spool.Move(a, ClaimState::kSubmitted, "submit", "").ok());
  REQUIRE(f.spool.Move(b, ClaimState::kFailed, "ocr", "unreadable file").ok());

  MailMessage m = DailySummary(f.spool, f.now + std::chrono::minutes(1));
  CHECK(m.body.find("emails processed:     2\n") != std::string::npos);
  CHECK(m.body.find("claims created:       3\n") != std::string::npos);
  CHECK(m.body.find("claims submitted:     1\n") != std::string::npos);
  CHECK(m.body.find("exceptions queued:    1\n") != std::string::npos);
  CHECK(m.body.find("claims failed:        1\n") != std::string::npos);
  CHECK(m.body.find("average confidence:   0.80 (2 claims extracted)") != std::string::npos);
  CHECK(m.subject.find("daily summary") != std::string::npos);

  // A day later, none of it counts.
  MailMessage later = DailySummary(f.spool, f.now + std::chrono::hours(25));
  CHECK(later.body.find("claims created:       0\n") != std::string::npos);
  CHECK(later.body.find("average confidence:   n/a") != std::string::npos);

  REQUIRE(SendDailySummary(f.config, f.spool, f.sender, f.now).ok());
  CHECK(f.sender.sent.size() == 1);
}
