// Tests of ncb_http.h: NCB's answers parsed, the API key loaded safely, and
// the submit stage sending a real spool through HTTP to the NCB double, with
// faults injected, over plain loopback and over TLS with a private CA.
#include "ncbocr/ncb_http.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>

#include "ncb_double.h"
#include "ncbocr/submit_stage.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using testing::ScratchDir;

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = std::chrono::system_clock::now();
};

void WriteSecret(const fs::path& p, const std::string& s, unsigned mode) {
  std::ofstream(p) << s;
  ::chmod(p.c_str(), mode);
}

// A ready claim as extraction leaves it: extract.json with the field values.
std::string AddReadyClaim(const Spool& spool, int n, const std::string& service_date = "2024-12-15") {
  std::string id = NewClaimId() + "-" + std::to_string(n);
  auto d = spool.NewDraft(id);
  REQUIRE(d.ok());
  Attachment a;
  a.filename = "receipt_" + std::to_string(n) + ".jpg";
  a.sha256 = Sha256Hex("receipt bytes " + id);
  d->claim.attachment = a;
  d->claim.source.email_id = "mail-" + std::to_string(n);
  nlohmann::json x = {{"confidence", 0.95},
                      {"fields",
                       {{"service_date", {{"value", service_date}}},
                        {"total_amount", {{"value", std::to_string(100 + n) + ".50"}}},
                        {"receipt_number", {{"value", "RCP-" + std::to_string(n)}}},
                        {"policy_number", {{"value", "POL-" + std::to_string(n)}}}}}};
  REQUIRE(spool.WriteDraftFile(*d, "extract.json", x.dump()).ok());
  REQUIRE(spool.Commit(*d, ClaimState::kReady, "test", "").ok());
  return id;
}

struct Rig {
  ScratchDir dir{"ncbocr-ncb-http"};
  Config config;
  Spool spool = *Spool::Open(dir.path / "spool");
  FakeClock clock;

  Rig(const std::string& base_url, const std::string& key) {
    config.ncb.base_url = base_url;
    WriteSecret(dir.path / "ncb.key", key + "\n", 0600);
    config.ncb.api_key_file = (dir.path / "ncb.key").string();
    config.ncb.max_attempts = 20;
  }
  StageReport Submit() {
    StageContext ctx{config, spool, NullLogger(), clock, "submit"};
    auto client = MakeNcbClient(config.ncb, NullLogger());
    REQUIRE(client.ok());
    return SubmitClaims(ctx, **client);
  }
  // Runs the stage until nothing is ready or deferred, moving the clock past
  // every backoff between runs (as cron would, hours later).
  int SubmitUntilSettled() {
    int runs = 0;
    while ((!spool.List(ClaimState::kReady).empty() || !spool.List(ClaimState::kDeferred).empty()) &&
           runs < 20) {
      auto r = Submit();
      REQUIRE(r.status.ok());
      clock.now += std::chrono::hours(3);
      ++runs;
    }
    return runs;
  }
};

TEST_CASE("ncb http: NCB's answers are read into NcbResponse") {
  HttpResponse r;
  r.request_id = "rid";
  r.status = 400;
  r.body = R"({"success":false,"error_code":"VALIDATION_FAILED","message":"Invalid member ID",
             "details":{"field":"member_id","reason":"not found"}})";
  auto v = ParseNcbResponse(r);
  CHECK(v.http_status == 400);
  CHECK(v.error_code == "VALIDATION_FAILED");
  CHECK(v.message == "Invalid member ID (field member_id: not found)");
  CHECK(v.request_id == "rid");

  // No answer at all: the kind of transport failure is named.
  HttpResponse down;
  down.status = 0;
  down.transport = TransportError::kConnect;
  down.error = "Couldn't connect to server";
  CHECK(ParseNcbResponse(down).message == "connection refused or host unreachable: Couldn't connect to server");
  down.transport = TransportError::kTimeout;
  CHECK(ParseNcbResponse(down).message.rfind("timed out", 0) == 0);
  down.transport = TransportError::kTls;
  CHECK(ParseNcbResponse(down).message.rfind("TLS failure", 0) == 0);

  r.status = 201;
  r.body = R"({"success":true,"claim_reference":"CLM-2024-567890","status":"received"})";
  CHECK(ParseNcbResponse(r).reference == "CLM-2024-567890");

  r.status = 429;
  r.headers["retry-after"] = "5";
  r.body = R"({"success":false,"error_code":"RATE_LIMITED","retry_after":60})";
  CHECK(ParseNcbResponse(r).retry_after == 60);
  r.body = R"({"success":false,"error_code":"RATE_LIMITED","retry_after":2})";
  CHECK(ParseNcbResponse(r).retry_after == 5);

  r.headers.clear();
  r.status = 502;
  r.body = "<html>Bad Gateway</html>";
  auto proxy = ParseNcbResponse(r);
  CHECK(proxy.message == "HTTP 502");
  CHECK(proxy.reference.empty());

  r.status = 0;
  r.error = "Empty reply from server";
  CHECK(ParseNcbResponse(r).message == "Empty reply from server");
}

TEST_CASE("ncb http: the API key comes from a 0600 file, else the environment") {
  ScratchDir dir;
  NcbConfig c;
  CHECK(LoadNcbApiKey(c).status().kind() == ErrorKind::kConfig);
  c.api_key = "from-env";
  CHECK(*LoadNcbApiKey(c) == "from-env");
  c.api_key_file = (dir.path / "key").string();
  CHECK(LoadNcbApiKey(c).status().kind() == ErrorKind::kConfig);  // file named but missing
  WriteSecret(dir.path / "key", "from-file\n", 0600);
  CHECK(*LoadNcbApiKey(c) == "from-file");
  ::chmod(c.api_key_file.c_str(), 0644);
  auto open = LoadNcbApiKey(c);
  CHECK(open.status().kind() == ErrorKind::kCredentials);
  CHECK(open.status().message().find("chmod 600") != std::string::npos);
  CHECK(open.status().message().find("from-file") == std::string::npos);
  WriteSecret(dir.path / "key", "\n", 0600);
  CHECK(LoadNcbApiKey(c).status().kind() == ErrorKind::kConfig);
}

TEST_CASE("ncb http: plain http to a remote NCB is refused when the client is made") {
  NcbConfig c;
  c.api_key = "k";
  c.base_url = "http://ncb.internal.example/api/v1";
  CHECK(MakeNcbClient(c).status().kind() == ErrorKind::kConfig);
  c.base_url = "https://ncb.internal.example/api/v1";
  CHECK(MakeNcbClient(c).ok());
}

TEST_CASE("ncb http: every claim reaches NCB exactly once through 503s, 429s and lost answers") {
  auto& ncb = testing::SharedNcbDouble();
  REQUIRE(ncb.ok());
  Rig rig(ncb.base_url(), "secret-key");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(AddReadyClaim(rig.spool, i));
  // Run 1: the first two claims meet 503s and are deferred.
  ncb.Control({{"fail_next", 2}, {"status", 503}});
  auto r1 = rig.Submit();
  CHECK(r1.status.ok());
  CHECK(r1.outcomes["deferred"] == 2);
  CHECK(r1.outcomes["submitted"] == 3);
  // Run 2 (hours later): a 429, then one claim whose answer is lost twice
  // (its quick retry too), so it is deferred although NCB has it.
  ids.push_back(AddReadyClaim(rig.spool, 5));
  ids.push_back(AddReadyClaim(rig.spool, 6));
  rig.clock.now += std::chrono::hours(3);
  ncb.Control({{"rate_limit_next", 1}, {"retry_after", 1}, {"lose_response_next", 2}});
  auto r2 = rig.Submit();
  CHECK(r2.status.ok());
  CHECK(r2.outcomes["deferred"] == 2);
  CHECK(r2.outcomes["submitted"] == 2);
  // Later runs: one more lost answer, recovered by the quick retry.
  ncb.Control({{"lose_response_next", 1}});
  ids.push_back(AddReadyClaim(rig.spool, 7));
  rig.clock.now += std::chrono::hours(3);
  rig.SubmitUntilSettled();

  auto dump = ncb.Dump();
  std::map<std::string, std::string> ref_by_key;
  for (const auto& c : dump["claims"]) ref_by_key[c["key"]] = c["reference"];
  CHECK(ref_by_key.size() == ids.size());
  std::set<std::string> refs;
  for (const auto& id : ids) {
    auto c = rig.spool.Load(id);
    REQUIRE(c.ok());
    CHECK(c->state == ClaimState::kSubmitted);
    REQUIRE(ref_by_key.count(IdempotencyKey(*c)) == 1);
    CHECK(c->ncb_reference == ref_by_key[IdempotencyKey(*c)]);
    refs.insert(c->ncb_reference);
  }
  CHECK(refs.size() == ids.size());

  // The faults really happened, and every attempt had its own request id.
  std::map<int, int> statuses;
  std::set<std::string> request_ids;
  for (const auto& q : dump["requests"]) {
    statuses[q["status"].get<int>()]++;
    request_ids.insert(q["request_id"].get<std::string>());
  }
  CHECK(statuses[503] == 2);
  CHECK(statuses[429] == 1);
  CHECK(statuses[-1] == 3);  // committed, answer dropped
  CHECK(statuses[200] >= 2);  // replays answered with the same reference
  CHECK(request_ids.size() == dump["requests"].size());
}

TEST_CASE("ncb http: NCB's 400 sends the claim to review with NCB's reason; 409 counts as done") {
  auto& ncb = testing::SharedNcbDouble();
  REQUIRE(ncb.ok());
  Rig rig(ncb.base_url(), "secret-key");
  std::string bad = AddReadyClaim(rig.spool, 1, "15/12/2024");
  std::string dup = AddReadyClaim(rig.spool, 2);
  ncb.Control({{"duplicate_next", 1}});
  auto r = rig.Submit();
  CHECK(r.status.ok());
  auto b = rig.spool.Load(bad);
  REQUIRE(b.ok());
  CHECK(b->state == ClaimState::kReview);
  CHECK(b->reason.find("VALIDATION_FAILED") != std::string::npos);
  CHECK(b->reason.find("Event date") != std::string::npos);
  auto d = rig.spool.Load(dup);
  REQUIRE(d.ok());
  CHECK(d->state == ClaimState::kSubmitted);
  CHECK(d->ncb_reference == "CLM-DUP-000001");
}

TEST_CASE("ncb http: a refused key stops the stage and keeps every claim ready") {
  auto& ncb = testing::SharedNcbDouble();
  REQUIRE(ncb.ok());
  Rig rig(ncb.base_url(), "wrong-key");
  for (int i = 0; i < 3; ++i) AddReadyClaim(rig.spool, i);
  auto r = rig.Submit();
  CHECK(r.status.kind() == ErrorKind::kCredentials);
  CHECK(r.status.exit_code() == 77);
  CHECK(rig.spool.List(ClaimState::kReady).size() == 3);
  CHECK(rig.spool.List(ClaimState::kDeferred).empty());
  CHECK(ncb.Dump()["claims"].empty());
  CHECK(ncb.Dump()["requests"].size() == 1);  // stopped at the first refusal
}

TEST_CASE("ncb http: TLS to a private CA works only with ncb.ca_file") {
  auto& tls = testing::SharedTlsNcbDouble();
  REQUIRE(tls.ok());
  auto& ncb = tls.ncb;
  std::string ca = tls.ca_file;
  Rig rig(ncb.base_url(), "secret-key");
  std::string id = AddReadyClaim(rig.spool, 1);

  auto health = (*MakeNcbClient(rig.config.ncb))->Health();
  CHECK(health.kind() == ErrorKind::kConfig);
  auto r = rig.Submit();
  CHECK(r.status.ok());
  auto c = rig.spool.Load(id);
  REQUIRE(c.ok());
  CHECK(c->state == ClaimState::kDeferred);
  CHECK(c->reason.find("TLS") != std::string::npos);
  CHECK(ncb.Dump()["claims"].empty());

  rig.config.ncb.ca_file = ca;
  CHECK((*MakeNcbClient(rig.config.ncb))->Health().ok());
  rig.clock.now += std::chrono::hours(3);
  rig.Submit();
  c = rig.spool.Load(id);
  REQUIRE(c.ok());
  CHECK(c->state == ClaimState::kSubmitted);
  CHECK(ncb.Dump()["claims"].size() == 1);
}

}  // namespace
}  // namespace ncbocr
