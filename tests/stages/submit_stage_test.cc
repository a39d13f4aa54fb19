#include "ncbocr/submit_stage.h"

#include <doctest/doctest.h>

#include "test_util.h"

using namespace ncbocr;
using ncbocr::testing::PutClaim;
using ncbocr::testing::TempDir;

namespace {

const nlohmann::json kFields = {{"service_date", "2024-12-15"}, {"total_amount", "150"},
                                {"receipt_number", "RCP-2024-001234"}, {"member_id", "M10234"},
                                {"policy_number", "POL-2024-00123"}};

// An NCB that remembers idempotency keys like the real one, with scripted
// answers for the next calls.
class FakeNcb : public NcbClient {
 public:
  std::vector<NcbResponse> script;  // answers before normal behaviour
  std::map<std::string, std::string> accepted;  // key -> reference
  bool lose_next_after_commit = false;
  int calls = 0;

  NcbResponse Submit(const std::string& body, const std::string& key) override {
    ++calls;
    last_body = body;
    if (!script.empty()) {
      NcbResponse r = script.front();
      script.erase(script.begin());
      return r;
    }
    NcbResponse r;
    auto it = accepted.find(key);
    if (it != accepted.end()) {
      r.http_status = 200;
      r.reference = it->second;
      return r;
    }
    accepted[key] = "CLM-" + std::to_string(accepted.size() + 1);
    if (lose_next_after_commit) {
      lose_next_after_commit = false;
      r.http_status = 0;
      r.message = "connection reset";
      return r;
    }
    r.http_status = 201;
    r.reference = accepted[key];
    return r;
  }
  Status Health() override { return Status::Ok(); }
  std::string last_body;
};

struct Fixture {
  TempDir t;
  Config config;
  Spool spool = *Spool::Open(t.path());
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "submit"};
};

NcbResponse Answer(int status, std::string code = "", std::string msg = "", int retry_after = 0) {
  NcbResponse r;
  r.http_status = status;
  r.error_code = std::move(code);
  r.message = std::move(msg);
  r.retry_after = retry_after;
  return r;
}

}  // namespace

TEST_CASE("ncb: the body uses NCB's field names, two-decimal amounts, policy else member id") {
  ClaimValues v;
  for (const auto& [k, val] : kFields.items()) v.fields[k] = val.get<std::string>();
  v.fields["source_email_id"] = "18c2f0a9e1b2c3d4";
  v.fields["source_filename"] = "receipt_001.jpg";
  v.confidence = 0.9412;
  NcbConfig ncb;
  auto body = BuildNcbBody(v, ncb, ExtractConfig{}, std::chrono::system_clock::now());
  REQUIRE(body.ok());
  CHECK(body->find("\"Claim Amount\": 150.00") != std::string::npos);
  auto j = nlohmann::json::parse(*body);
  CHECK(j["Event date"] == "2024-12-15");
  CHECK(j["Invoice Number"] == "RCP-2024-001234");
  CHECK(j["Policy Number"] == "POL-2024-00123");
  CHECK(j["source_email_id"] == "18c2f0a9e1b2c3d4");
  CHECK(j["extraction_confidence"] == doctest::Approx(0.941));
  CHECK(j["Submission Date"].get<std::string>().size() == 25);  // 2024-12-18T10:42:00+08:00

  v.fields.erase("policy_number");
  auto fallback = BuildNcbBody(v, ncb, ExtractConfig{}, std::chrono::system_clock::now());
  REQUIRE(fallback.ok());
  CHECK(nlohmann::json::parse(*fallback)["Policy Number"] == "M10234");
}

TEST_CASE("ncb: a missing required field or a non-positive amount is refused, naming the field") {
  ClaimValues v;
  for (const auto& [k, val] : kFields.items()) v.fields[k] = val.get<std::string>();
  v.fields["receipt_number"] = "";
  auto r = BuildNcbBody(v, NcbConfig{}, ExtractConfig{}, std::chrono::system_clock::now());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("Invoice Number") != std::string::npos);
  ExtractConfig lenient;
  lenient.allow_empty_invoice_number = true;
  CHECK(BuildNcbBody(v, NcbConfig{}, lenient, std::chrono::system_clock::now()).ok());

  v.fields["receipt_number"] = "R1";
  v.fields["total_amount"] = "0.00";
  auto zero = BuildNcbBody(v, NcbConfig{}, ExtractConfig{}, std::chrono::system_clock::now());
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().message().find("Claim Amount") != std::string::npos);
}

TEST_CASE("ncb: the field map comes from configuration, dotted names nest") {
  ClaimValues v;
  for (const auto& [k, val] : kFields.items()) v.fields[k] = val.get<std::string>();
  v.fields["provider_name"] = "KLINIK SIHAT";
  NcbConfig ncb;
  ncb.field_map = {{"Event date", "service_date"}, {"Claim Amount", "total_amount"},
                   {"Policy Number", "policy_number"}, {"provider.name", "provider_name"},
                   {"amounts.total", "total_amount"}};
  auto body = BuildNcbBody(v, ncb, ExtractConfig{}, std::chrono::system_clock::now());
  REQUIRE(body.ok());
  auto j = nlohmann::json::parse(*body);
  CHECK(j["provider"]["name"] == "KLINIK SIHAT");
  CHECK(j["amounts"]["total"].get<double>() == doctest::Approx(150.0));
  CHECK_FALSE(j.contains("Invoice Number"));
}

TEST_CASE("submit: outcomes follow the NCB contract") {
  Fixture f;
  Claim ok = PutClaim(f.spool, ClaimState::kReady, "ok", kFields);
  FakeNcb ncb;
  auto r = SubmitClaims(f.ctx, ncb);
  CHECK(r.status.ok());
  auto c = f.spool.Load(ok.id);
  CHECK(c->state == ClaimState::kSubmitted);
  CHECK(c->ncb_reference == "CLM-1");
  CHECK(f.spool.HasClaimFile(*c, "ncb-request.json"));

  Claim bad = PutClaim(f.spool, ClaimState::kReady, "bad", kFields);
  ncb.script = {Answer(400, "VALIDATION_FAILED", "Invalid member ID")};
  SubmitClaims(f.ctx, ncb);
  c = f.spool.Load(bad.id);
  CHECK(c->state == ClaimState::kReview);
  CHECK(c->reason.find("Invalid member ID") != std::string::npos);

  Claim dup = PutClaim(f.spool, ClaimState::kReady, "dup", kFields);
  NcbResponse d = Answer(409, "DUPLICATE");
  d.reference = "CLM-OLD";
  ncb.script = {d};
  SubmitClaims(f.ctx, ncb);
  c = f.spool.Load(dup.id);
  CHECK(c->state == ClaimState::kSubmitted);
  CHECK(c->ncb_reference == "CLM-OLD");
}

TEST_CASE("submit: refused credentials stop the stage and keep every claim queued") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kReady, "a", kFields);
  Claim b = PutClaim(f.spool, ClaimState::kReady, "b", kFields);
  FakeNcb ncb;
  ncb.script = {Answer(401, "UNAUTHORIZED")};
  auto r = SubmitClaims(f.ctx, ncb);
  CHECK(r.status.exit_code() == 77);
  CHECK(ncb.calls == 1);
  CHECK(f.spool.Load(a.id)->state == ClaimState::kReady);
  CHECK(f.spool.Load(b.id)->state == ClaimState::kReady);
  CHECK(r.status.message().find("check NCB_API_KEY (or ncb.api_key)") != std::string::npos);
}

TEST_CASE("submit: a refused key read from ncb.api_key_file names that file, not NCB_API_KEY") {
  Fixture f;
  f.config.ncb.api_key_file = "/etc/ncbocr/ncb.key";
  PutClaim(f.spool, ClaimState::kReady, "a", kFields);
  FakeNcb ncb;
  ncb.script = {Answer(403, "FORBIDDEN")};
  auto r = SubmitClaims(f.ctx, ncb);
  CHECK(r.status.exit_code() == 77);
  CHECK(r.status.message().find("ncb.api_key_file (/etc/ncbocr/ncb.key)") != std::string::npos);
  CHECK(r.status.message().find("NCB_API_KEY") == std::string::npos);
}

TEST_CASE("submit: rate limits and outages defer; Retry-After is honoured") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kReady, "a", kFields);
  Claim b = PutClaim(f.spool, ClaimState::kReady, "b", kFields);
  FakeNcb ncb;
  ncb.script = {Answer(429, "RATE_LIMITED", "", 7200), Answer(503)};
  SubmitClaims(f.ctx, ncb);
  auto ca = f.spool.Load(a.id);
  auto cb = f.spool.Load(b.id);
  CHECK(ca->state == ClaimState::kDeferred);
  CHECK(cb->state == ClaimState::kDeferred);
  CHECK(ca->resume_state == ClaimState::kReady);
  // Claims are handled oldest id first; whichever met the 429 waits out its
  // Retry-After, the one that met the 503 backs off for about a minute.
  auto wait = [](const Claim& c) { return *ParseIso(c.next_attempt_at) - std::chrono::system_clock::now(); };
  auto longer = std::max(wait(*ca), wait(*cb));
  auto shorter = std::min(wait(*ca), wait(*cb));
  CHECK(longer > std::chrono::seconds(7000));
  CHECK(shorter < std::chrono::seconds(100));
}

TEST_CASE("submit: a response lost after NCB committed never makes a second claim") {
  Fixture f;
  Claim a = PutClaim(f.spool, ClaimState::kReady, "a", kFields);
  FakeNcb ncb;
  ncb.lose_next_after_commit = true;
  SubmitClaims(f.ctx, ncb);
  CHECK(f.spool.Load(a.id)->state == ClaimState::kDeferred);
  // Make it due now and run again: the same key replays.
  Claim c = *f.spool.Load(a.id);
  REQUIRE(f.spool.Move(c, ClaimState::kReady, "test", "retry now").ok());
  SubmitClaims(f.ctx, ncb);
  c = *f.spool.Load(a.id);
  CHECK(c.state == ClaimState::kSubmitted);
  CHECK(ncb.accepted.size() == 1);
  CHECK(c.ncb_reference == ncb.accepted.begin()->second);
}

TEST_CASE("submit: the local outbox writes each body once and replays the reference") {
  TempDir t;
  FileOutboxClient out((t.path() / "outbox").string());
  auto r1 = out.Submit("{\"a\":1}\n", "ncbocr-abc");
  CHECK(r1.http_status == 201);
  auto r2 = out.Submit("{\"a\":1}\n", "ncbocr-abc");
  CHECK(r2.http_status == 200);
  CHECK(r1.reference == r2.reference);
  CHECK(std::distance(fs::directory_iterator(t.path() / "outbox"), fs::directory_iterator()) == 1);
  CHECK(*ReadFile(t.path() / "outbox" / "ncbocr-abc.json") == "{\"a\":1}\n");
}

namespace {

class SteppingClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = std::chrono::system_clock::now();
};

// An NcbClient that answers whatever the test sets.
class ScriptedNcb : public NcbClient {
 public:
  NcbResponse Submit(const std::string&, const std::string&) override { return next; }
  Status Health() override { return Status::Ok(); }
  NcbResponse next;
};

TEST_CASE("submit: an outage longer than ncb.alert_after alerts once, and once when it ends") {
  TempDir dir;
  auto spool = *Spool::Open(dir.path());
  SteppingClock clock;
  ScriptedNcb inner;
  auto t0 = clock.now;
  {
    NcbOutageWatch watch(inner, spool, std::chrono::seconds(900), clock, NullLogger());
    inner.next.http_status = 0;
    inner.next.message = "Failed to connect";
    CHECK(watch.Note(inner.next) == OutageEvent::kStarted);
    clock.now = t0 + std::chrono::seconds(300);
    inner.next.http_status = 503;
    CHECK(watch.Submit("{}", "key").http_status == 503);  // noted on the way through
    CHECK(watch.state().failures == 2);
  }
  auto saved = ReadNcbOutage(spool);
  REQUIRE(saved.has_value());
  CHECK(saved->down_since == IsoUtc(t0));
  CHECK(saved->last_error == "HTTP 503");
  CHECK_FALSE(saved->alerted);

  // A later run picks the outage up from the spool and alerts once it is old enough.
  NcbOutageWatch watch(inner, spool, std::chrono::seconds(900), clock, NullLogger());
  clock.now = t0 + std::chrono::seconds(901);
  CHECK(watch.Note(inner.next) == OutageEvent::kAlert);
  clock.now = t0 + std::chrono::seconds(2000);
  CHECK(watch.Note(inner.next) == OutageEvent::kNone);  // once per outage
  CHECK(ReadNcbOutage(spool)->alerted);
  CHECK(ReadNcbOutage(spool)->failures == 4);

  inner.next.http_status = 400;  // an answer, even a refusal, means NCB is up
  CHECK(watch.Note(inner.next) == OutageEvent::kRecovered);
  auto after = ReadNcbOutage(spool);
  CHECK(after->down_since.empty());
  CHECK(after->recovered_at == IsoUtc(clock.now));
  CHECK(watch.Note(inner.next) == OutageEvent::kNone);

  // A short blip that never crossed the threshold ends quietly.
  inner.next.http_status = 0;
  CHECK(watch.Note(inner.next) == OutageEvent::kStarted);
  inner.next.http_status = 201;
  CHECK(watch.Note(inner.next) == OutageEvent::kNone);
}

}  // namespace
