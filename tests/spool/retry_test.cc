// Tests of retry.h on real temporary spools: claims are moved the way the
// stages move them (Move, Defer), then retried.
#include "ncbocr/retry.h"

#include <doctest/doctest.h>

#include "spool_fixture.h"

namespace ncbocr {
namespace {

using testing::CompleteExtract;
using testing::SpoolFixture;

TEST_CASE("retry: a failed claim goes back to the stage it failed at") {
  SpoolFixture f;
  Claim ocr_failure = f.Add(ClaimState::kFetched, nlohmann::json());
  REQUIRE(f.spool.Move(ocr_failure, ClaimState::kFailed, "ocr", "cannot decode image").ok());

  Claim submit_failure = f.Add(ClaimState::kReady, CompleteExtract());
  REQUIRE(f.spool.Defer(submit_failure, ClaimState::kReady, std::chrono::seconds(60), "submit", "NCB 503").ok());
  REQUIRE(f.spool.Move(submit_failure, ClaimState::kReady, "submit", "attempt 2").ok());
  REQUIRE(f.spool.Move(submit_failure, ClaimState::kFailed, "submit", "gave up after 2 attempts").ok());

  CHECK(RetryTarget(ocr_failure).value() == ClaimState::kFetched);
  CHECK(RetryTarget(submit_failure).value() == ClaimState::kReady);

  size_t history = submit_failure.history.size();
  auto out = RetryClaims(f.spool, {ocr_failure.id, submit_failure.id}, "bob");
  REQUIRE(out.size() == 2);
  CHECK(out[0].status.ok());
  CHECK(out[1].status.ok());
  Claim a = f.spool.Load(ocr_failure.id).value();
  Claim b = f.spool.Load(submit_failure.id).value();
  CHECK(a.state == ClaimState::kFetched);
  CHECK(b.state == ClaimState::kReady);
  CHECK(b.attempts == 0);
  CHECK(b.history.size() == history + 1);  // kept, plus the retry
  CHECK(b.history.back().actor == "user:bob");
}

TEST_CASE("retry: a claim fetch parked without a receipt is refused, its reason kept") {
  // Issue 15: retrying a message over fetch.max_message_bytes sent it to ocr,
  // whose "the email has no receipt attachment" replaced the real reason.
  SpoolFixture f;
  ClaimDraft d = f.spool.NewDraft(NewClaimId()).value();
  d.claim.source.kind = "eml";
  d.claim.source.email_id = "big.eml";
  const std::string reason = "email eml:0123456789ab: message is 12.0 MiB, over "
                             "fetch.max_message_bytes (10.0 MiB)";
  REQUIRE(f.spool.Commit(d, ClaimState::kFailed, "fetch", reason).ok());
  Claim c = f.spool.LoadIn(ClaimState::kFailed, d.claim.id).value();
  auto target = RetryTarget(c);
  REQUIRE_FALSE(target.ok());
  CHECK(target.status().kind() == ErrorKind::kPermanent);
  CHECK(target.status().message().find("parked by fetch") != std::string::npos);
  CHECK(target.status().message().find("max_message_bytes") != std::string::npos);
  auto out = RetryClaims(f.spool, {c.id}, "bob");
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].status.ok());
  Claim after = f.spool.Load(c.id).value();
  CHECK(after.state == ClaimState::kFailed);
  CHECK(after.reason == reason);
}

TEST_CASE("retry: a deferred claim resumes now with its attempts reset") {
  SpoolFixture f;
  Claim c = f.Add(ClaimState::kReady, CompleteExtract());
  REQUIRE(f.spool.Defer(c, ClaimState::kReady, std::chrono::hours(1), "submit", "NCB 503").ok());
  REQUIRE(f.spool.Move(c, ClaimState::kReady, "submit", "attempt 2").ok());
  REQUIRE(f.spool.Defer(c, ClaimState::kReady, std::chrono::hours(2), "submit", "NCB 503").ok());
  REQUIRE(c.attempts == 2);

  auto ids = RetryableIds(f.spool, "deferred");
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{c.id});
  auto out = RetryClaims(f.spool, *ids, "bob");
  REQUIRE(out[0].status.ok());
  Claim after = f.spool.Load(c.id).value();
  CHECK(after.state == ClaimState::kReady);
  CHECK(after.attempts == 0);
  CHECK(after.next_attempt_at.empty());
  CHECK_FALSE(after.resume_state.has_value());
}

TEST_CASE("retry: claims waiting for a clerk or final are refused, the others still go") {
  SpoolFixture f;
  Claim review = f.Add(ClaimState::kReview, CompleteExtract());
  Claim done = f.Add(ClaimState::kDone, CompleteExtract());
  Claim failed = f.Add(ClaimState::kFailed, CompleteExtract());  // no history before failed
  auto out = RetryClaims(f.spool, {review.id, "20990101-000000-00000000", done.id, failed.id}, "bob");
  REQUIRE(out.size() == 4);
  CHECK(out[0].status.kind() == ErrorKind::kPermanent);
  CHECK(out[0].status.message().find("exceptions approve") != std::string::npos);
  CHECK(out[1].status.kind() == ErrorKind::kPermanent);
  CHECK(out[2].status.kind() == ErrorKind::kPermanent);
  CHECK(out[3].status.ok());
  CHECK(out[3].to == ClaimState::kFetched);  // history says nothing: start again
  CHECK(f.spool.Load(review.id)->state == ClaimState::kReview);
  CHECK(f.spool.Load(done.id)->state == ClaimState::kDone);
  CHECK(RetryableIds(f.spool, "review").status().kind() == ErrorKind::kUsage);
}

}  // namespace
}  // namespace ncbocr
