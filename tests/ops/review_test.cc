// Tests of review.h on real temporary spools.
#include "ncbocr/review.h"

#include <doctest/doctest.h>

#include "ncbocr/ncb.h"
#include "spool_fixture.h"

namespace ncbocr {
namespace {

using nlohmann::json;
using testing::CompleteExtract;
using testing::SpoolFixture;

TimePoint Now() { return std::chrono::system_clock::now(); }

std::string Normal(const std::string& field, const std::string& value) {
  auto r = NormalizeCorrection(field, value, Now());
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

bool Refused(const std::string& field, const std::string& value) {
  auto r = NormalizeCorrection(field, value, Now());
  return !r.ok() && r.status().kind() == ErrorKind::kPermanent;
}

ReviewDecision Decision(const std::string& id, std::vector<std::pair<std::string, std::string>> sets = {}) {
  ReviewDecision d;
  d.id = id;
  d.reviewer = "alice";
  d.corrections = std::move(sets);
  return d;
}

TEST_CASE("review: corrections are validated and normalised like extracted values") {
  CHECK(Normal("service_date", " 2024-02-29 ") == "2024-02-29");
  CHECK(Refused("service_date", "2023-02-29"));   // no such day
  CHECK(Refused("service_date", "15/12/2024"));   // not ISO
  CHECK(Refused("service_date", "2024-1-05"));
  CHECK(Refused("service_date", IsoUtc(Now() + std::chrono::hours(72)).substr(0, 10)));  // future
  CHECK(Normal("total_amount", "RM 12.5") == "12.50");
  CHECK(Normal("total_amount", "12.50 MYR") == "12.50");
  CHECK(Normal("total_amount", "1,234.50") == "1234.50");
  CHECK(Normal("total_amount", "7") == "7.00");
  CHECK(Refused("total_amount", "12.345"));
  CHECK(Refused("total_amount", "-3.00"));
  CHECK(Refused("total_amount", "0.00"));
  CHECK(Refused("total_amount", "1,23.00"));
  CHECK(Refused("total_amount", "12.5O"));  // OCR-style letter O: a clerk's typo is refused, not repaired
  CHECK(Normal("sst_amount", "0") == "0.00");
  CHECK(Normal("receipt_number", "  RCP-9 ") == "RCP-9");
  CHECK(Refused("receipt_number", "A\nB"));
  auto unknown = NormalizeCorrection("favourite_colour", "blue", Now());
  CHECK(unknown.status().kind() == ErrorKind::kPermanent);
  CHECK(unknown.status().message().find("unknown field") != std::string::npos);
}

TEST_CASE("review: --set arguments") {
  auto ok = ParseSetArgs({"receipt_number=A=B", "total_amount= 3"});
  REQUIRE(ok.ok());
  CHECK(ok->at(0) == std::make_pair(std::string("receipt_number"), std::string("A=B")));
  CHECK(ParseSetArgs({"total_amount"}).status().kind() == ErrorKind::kUsage);
  CHECK(ParseSetArgs({"a=1", "a=2"}).status().kind() == ErrorKind::kUsage);
}

TEST_CASE("review: list shows review and failed claims, oldest waiting first, with the sender") {
  SpoolFixture f;
  Claim recent = f.Add(ClaimState::kReview, CompleteExtract(), "20240101-000000-aaaaaaaa", "a@example.com");
  Claim old = f.Add(ClaimState::kFailed, json(), "20240101-000000-bbbbbbbb", "b@example.com");
  f.Add(ClaimState::kReady, CompleteExtract());
  old.history.back().at = "2020-01-01T00:00:00Z";  // waiting much longer than the other
  REQUIRE(f.spool.SaveManifest(old).ok());

  json list = ListExceptions(f.spool, Now());
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == old.id);
  CHECK(list[0]["state"] == "failed");
  CHECK(list[0]["sender"] == "b@example.com");
  CHECK(list[0]["age_s"].get<long long>() > 3600 * 24 * 365);
  CHECK(list[1]["id"] == recent.id);
  CHECK(list[1]["state"] == "review");
  CHECK(list[1]["reasons"][0] == "total does not match the items");
  std::string text = ExceptionsText(list);
  CHECK(text.find("a@example.com") != std::string::npos);
  CHECK(text.find("failed") != std::string::npos);
}

TEST_CASE("review: show has fields, reasons, OCR text and the original") {
  SpoolFixture f;
  Claim c = f.Add(ClaimState::kReview, CompleteExtract());
  auto j = ShowException(f.spool, c.id);
  REQUIRE(j.ok());
  CHECK((*j)["fields"]["total_amount"]["value"] == "150.00");
  CHECK((*j)["fields"]["total_amount"]["confidence"] == 0.5);
  CHECK((*j)["fields"]["total_amount"]["source"] == "ocr");
  CHECK((*j)["ocr_text"][0] == "KLINIK\nTOTAL RM 150.00");
  CHECK(fs::exists((*j)["original"].get<std::string>()));
  CHECK((*j)["reasons"][0] == "total does not match the items");
  CHECK(ExceptionText(*j).find("policy_number") != std::string::npos);
  CHECK(ShowException(f.spool, "20990101-000000-00000000").status().kind() == ErrorKind::kPermanent);
}

TEST_CASE("review: approve applies corrections, keeps the old values and sends the claim to ready") {
  SpoolFixture f;
  Claim c = f.Add(ClaimState::kReview, CompleteExtract());
  ReviewDecision d = Decision(c.id, {{"total_amount", "RM 12.5"}, {"service_date", "2024-12-14"}});
  d.note = "phoned the clinic";
  REQUIRE(ApproveClaim(f.spool, f.config, d, Now()).ok());

  Claim after = f.spool.Load(c.id).value();
  CHECK(after.state == ClaimState::kReady);
  json x = json::parse(f.File(after, "extract.json"));
  CHECK(x["fields"]["total_amount"] == json({{"value", "12.50"}, {"confidence", 1.0}, {"source", "reviewer"}}));
  CHECK(x["fields"]["receipt_number"]["value"] == "RCP-1");  // untouched fields stay
  REQUIRE(x["corrections"].size() == 2);
  CHECK(x["corrections"][0]["old"] == "150.00");
  CHECK(x["corrections"][0]["new"] == "12.50");
  CHECK(x["corrections"][0]["by"] == "alice");

  // The manifest keeps the values and the note; history and journal only names.
  const json& review = after.notes["reviews"][0];
  CHECK(review["decision"] == "approved");
  CHECK(review["note"] == "phoned the clinic");
  CHECK(review["changes"][1] == json({{"field", "service_date"}, {"old", "2024-12-15"}, {"new", "2024-12-14"}}));
  CHECK(after.history.back().actor == "user:alice");
  CHECK(after.history.back().reason.find("total_amount") != std::string::npos);
  json last = f.spool.ReadJournal().value().back();
  std::string line = last.dump();
  CHECK(last["to"] == "ready");
  CHECK(line.find("total_amount") != std::string::npos);
  CHECK(line.find("12.50") == std::string::npos);
  CHECK(line.find("2024-12-14") == std::string::npos);
  CHECK(line.find("phoned") == std::string::npos);

  // What submit will send is what the clerk approved.
  auto v = f.spool.LoadClaimValues(after);
  REQUIRE(v.ok());
  auto body = BuildNcbBody(*v, f.config.ncb, f.config.extract, Now());
  REQUIRE(body.ok());
  CHECK(body->find("\"Claim Amount\": 12.50") != std::string::npos);
}

TEST_CASE("review: a refused approval leaves the claim exactly as it was") {
  SpoolFixture f;
  Claim c = f.Add(ClaimState::kReview, CompleteExtract());
  std::string before = f.File(c, "extract.json");

  Status bad_date = ApproveClaim(f.spool, f.config, Decision(c.id, {{"service_date", "2024-13-01"}}), Now());
  CHECK(bad_date.kind() == ErrorKind::kPermanent);
  CHECK(bad_date.exit_code() == 65);
  CHECK(bad_date.message().find("service_date") != std::string::npos);
  Status unknown = ApproveClaim(f.spool, f.config, Decision(c.id, {{"colour", "x"}}), Now());
  CHECK(unknown.kind() == ErrorKind::kPermanent);

  Claim same = f.spool.Load(c.id).value();
  CHECK(same.state == ClaimState::kReview);
  CHECK(f.File(same, "extract.json") == before);
  CHECK(same.history.size() == c.history.size());
}

TEST_CASE("review: approval needs every field NCB requires") {
  SpoolFixture f;
  json x = CompleteExtract();
  x["fields"]["policy_number"]["value"] = nullptr;  // and member_id is empty too
  Claim c = f.Add(ClaimState::kReview, x);
  Status s = ApproveClaim(f.spool, f.config, Decision(c.id), Now());
  CHECK(s.kind() == ErrorKind::kPermanent);
  CHECK(s.message().find("Policy Number") != std::string::npos);
  CHECK(f.spool.Load(c.id)->state == ClaimState::kReview);

  REQUIRE(ApproveClaim(f.spool, f.config, Decision(c.id, {{"member_id", "M-77"}}), Now()).ok());
  CHECK(f.spool.Load(c.id)->state == ClaimState::kReady);
}

TEST_CASE("review: a failed claim with no extraction can be approved from typed values") {
  SpoolFixture f;
  Claim c = f.Add(ClaimState::kFailed, json());
  Status missing = ApproveClaim(f.spool, f.config, Decision(c.id, {{"total_amount", "10"}}), Now());
  CHECK(missing.kind() == ErrorKind::kPermanent);
  // Every missing field named at once, so the clerk fixes them in one go.
  CHECK(missing.message().find("'Event date'") != std::string::npos);
  CHECK(missing.message().find("'Invoice Number'") != std::string::npos);
  CHECK(missing.message().find("'Policy Number'") != std::string::npos);
  CHECK_FALSE(f.spool.HasClaimFile(f.spool.Load(c.id).value(), "extract.json"));
  ReviewDecision d = Decision(c.id, {{"total_amount", "10"},
                                     {"service_date", "2024-01-02"},
                                     {"receipt_number", "R-5"},
                                     {"policy_number", "P-1"}});
  REQUIRE(ApproveClaim(f.spool, f.config, d, Now()).ok());
  Claim after = f.spool.Load(c.id).value();
  CHECK(after.state == ClaimState::kReady);
  CHECK(json::parse(f.File(after, "extract.json"))["fields"]["receipt_number"]["source"] == "reviewer");
}

TEST_CASE("review: only claims waiting for review can be decided") {
  SpoolFixture f;
  Claim ready = f.Add(ClaimState::kReady, CompleteExtract());
  Status s = ApproveClaim(f.spool, f.config, Decision(ready.id), Now());
  CHECK(s.kind() == ErrorKind::kPermanent);
  CHECK(s.message().find("not waiting") != std::string::npos);
  ReviewDecision bad = Decision(ready.id);
  bad.reviewer = "eve; rm -rf";
  CHECK(ApproveClaim(f.spool, f.config, bad, Now()).kind() == ErrorKind::kUsage);
}

TEST_CASE("review: reject is final and recorded") {
  SpoolFixture f;
  Claim c = f.Add(ClaimState::kReview, CompleteExtract());
  ReviewDecision d = Decision(c.id);
  CHECK(RejectClaim(f.spool, d, Now()).kind() == ErrorKind::kUsage);  // no reason
  d.reason = "not a medical receipt";
  REQUIRE(RejectClaim(f.spool, d, Now()).ok());
  Claim after = f.spool.Load(c.id).value();
  CHECK(after.state == ClaimState::kRejected);
  CHECK(after.reason == "rejected: not a medical receipt");
  CHECK(after.history.back().actor == "user:alice");
  CHECK(after.notes["reviews"][0]["decision"] == "rejected");
  CHECK(RejectClaim(f.spool, d, Now()).kind() == ErrorKind::kPermanent);  // already final
}

TEST_CASE("review: the manual-change lock excludes a second holder") {
  SpoolFixture f;
  auto first = LockForManualChange(f.spool, std::chrono::seconds(0));
  REQUIRE(first.ok());
  CHECK(first->held());
  auto second = LockForManualChange(f.spool, std::chrono::seconds(0));
  CHECK(second.status().kind() == ErrorKind::kTransient);
  CHECK(ValidReviewerName(CurrentUserName()));
}

}  // namespace
}  // namespace ncbocr
