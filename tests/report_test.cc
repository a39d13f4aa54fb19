// Status counts: what waits for a clerk, split into receipts and emails with
// nothing to claim (issue 12).
#include "ncbocr/report.h"

#include <doctest/doctest.h>

#include "test_util.h"

using namespace ncbocr;
using namespace ncbocr::testing;

namespace {

// An email with no receipt, as fetch parks it: no attachment, in review.
void PutEmailWithNothing(const Spool& spool) {
  auto d = spool.NewDraft(NewClaimId());
  REQUIRE(d.ok());
  d->claim.source.kind = "eml";
  d->claim.source.email_id = "mail-2";
  d->claim.skipped = {"claim-form.docx: not an image or PDF"};
  REQUIRE(spool.Commit(*d, ClaimState::kReview, "fetch", "no receipt attachment").ok());
}

}  // namespace

TEST_CASE("status: emails with nothing to claim are counted apart from receipts for a clerk") {
  TempDir t;
  Spool spool = Spool::Open(t.path() / "spool").value();
  PutClaim(spool, ClaimState::kReview, "r1");
  PutClaim(spool, ClaimState::kFailed, "r2");
  PutClaim(spool, ClaimState::kReady, "r3");
  PutEmailWithNothing(spool);
  PutEmailWithNothing(spool);
  nlohmann::json j = StatusJson(spool, std::chrono::system_clock::now());
  CHECK(j["queues"]["review"] == 3);
  CHECK(j["for_clerk"]["receipts"] == 2);
  CHECK(j["for_clerk"]["nothing_to_claim"] == 2);
  std::string text = StatusText(j);
  CHECK(text.find("2 receipts, 2 emails with nothing to claim") != std::string::npos);
}
