// The journal catches up after a crash between a move and its journal line
// (Spool::ReconcileJournal, run by RunStage after an interrupted run or a
// failed append). The crash is made by cutting the journal's last line, which
// leaves exactly the state a SIGKILL after the rename leaves.
#include <doctest/doctest.h>

#include <fstream>
#include <functional>

#include "ncbocr/spool.h"
#include "ncbocr/stage.h"
#include "ncbocr/util.h"
#include "spool_fixture.h"
#include "test_util.h"

namespace ncbocr {
namespace {

// Drops the journal's last line, as a crash right after the rename would.
void CutLastJournalLine(const Spool& spool) {
  fs::path p = spool.root() / "journal" / "journal.log";
  std::string text = *ReadFile(p);
  text.pop_back();
  text.resize(text.rfind('\n') + 1);
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

std::string LastJournalTo(const Spool& spool, const std::string& id) {
  std::string to;
  auto entries = spool.ReadJournal();  // kept alive: the loop iterates its value
  REQUIRE(entries.ok());
  for (const auto& e : *entries) {
    if (e.is_object() && e.value("claim", "") == id) to = e.value("to", "");
  }
  return to;
}

}  // namespace

TEST_CASE("journal: ReconcileJournal records the move a crash left unjournaled") {
  testing::SpoolFixture f;
  Claim c = f.Add(ClaimState::kFetched, testing::CompleteExtract());
  REQUIRE(f.spool.Move(c, ClaimState::kOcred, "ocr", "").ok());
  CutLastJournalLine(f.spool);
  CHECK(LastJournalTo(f.spool, c.id) == "fetched");

  auto n = f.spool.ReconcileJournal();
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(LastJournalTo(f.spool, c.id) == "ocred");
  auto entries = *f.spool.ReadJournal();
  CHECK(entries.back().value("recovered", false));
  CHECK(entries.back().value("from", "") == "fetched");
  // Consistent now: a second pass appends nothing.
  CHECK(*f.spool.ReconcileJournal() == 0);
}

TEST_CASE("journal: a manifest ahead of an unfinished rename is not taken for a move") {
  testing::SpoolFixture f;
  Claim c = f.Add(ClaimState::kFetched, testing::CompleteExtract());
  // The manifest says ocred (written before the rename), the directory is
  // still in fetched: a crash between the two. The journal already ends in
  // fetched, so nothing is appended.
  Claim ahead = c;
  ahead.history.push_back({IsoUtc(std::chrono::system_clock::now()), "fetched", "ocred", "ocr", ""});
  REQUIRE(f.spool.SaveManifest(ahead).ok());
  CHECK(*f.spool.ReconcileJournal() == 0);
  CHECK(LastJournalTo(f.spool, c.id) == "fetched");
}

TEST_CASE("journal: RunStage catches up after a killed run, and only then") {
  testing::SpoolFixture f;
  Claim c = f.Add(ClaimState::kFetched, testing::CompleteExtract());
  REQUIRE(f.spool.Move(c, ClaimState::kOcred, "ocr", "").ok());
  CutLastJournalLine(f.spool);
  Clock clock;
  StageContext ctx{f.config, f.spool, NullLogger(), clock, "ocr"};
  auto body = [] { return StageReport{}; };

  // A run that finished cleanly left no marker: the journal is not re-read.
  RunStage(ctx, body);
  CHECK(LastJournalTo(f.spool, c.id) == "fetched");

  // The previous run died with its lease (as SIGKILL leaves it: the file,
  // its lock gone with the process).
  {
    auto dead = f.spool.BeginStageRun("ocr", "dead-run");
    REQUIRE(dead.ok());
    CHECK_FALSE(dead->interrupted());
  }
  CHECK(testing::LeaseFileCount(f.spool) == 1);
  RunStage(ctx, body);
  CHECK(LastJournalTo(f.spool, c.id) == "ocred");
  CHECK(testing::LeaseFileCount(f.spool) == 0);

  // The marker an older version left (an empty stages/ocr.running) counts too.
  CutLastJournalLine(f.spool);
  REQUIRE(AtomicWriteFile(f.spool.root() / "stages" / "ocr.running", "", 0600).ok());
  RunStage(ctx, body);
  CHECK(LastJournalTo(f.spool, c.id) == "ocred");
  CHECK(testing::LeaseFileCount(f.spool) == 0);
}

}  // namespace ncbocr

namespace ncbocr {
namespace {

// Makes every journal append fail (open(2) of a directory for writing fails
// with EISDIR, also for root) while renames still work; the returned
// function puts the journal back.
std::function<void()> BreakJournal(const Spool& spool) {
  fs::path p = spool.root() / "journal" / "journal.log";
  fs::path aside = spool.root() / "journal" / "journal.log.aside";
  std::error_code ec;
  fs::rename(p, aside, ec);  // may not exist yet
  fs::create_directory(p);
  return [p, aside] {
    std::error_code ec2;
    fs::remove(p, ec2);
    fs::rename(aside, p, ec2);
  };
}

}  // namespace

TEST_CASE("journal: a move whose journal line fails after the rename has happened, and the gap is repaired") {
  testing::SpoolFixture f;
  Claim c = f.Add(ClaimState::kFetched, testing::CompleteExtract());
  auto repair = BreakJournal(f.spool);
  Status s = f.spool.Move(c, ClaimState::kOcred, "ocr", "");
  CHECK(s.ok());  // the rename happened: that is the move
  CHECK(c.state == ClaimState::kOcred);
  CHECK(f.spool.LoadIn(ClaimState::kOcred, c.id).ok());
  CHECK(f.spool.JournalGapSuspected());
  repair();
  auto n = f.spool.ReconcileJournal();
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(LastJournalTo(f.spool, c.id) == "ocred");
  CHECK_FALSE(f.spool.JournalGapSuspected());
}

TEST_CASE("journal: a commit whose journal line fails keeps the claim, and discarding the draft leaves it alone") {
  testing::SpoolFixture f;
  auto d = f.spool.NewDraft(NewClaimId());
  REQUIRE(d.ok());
  REQUIRE(f.spool.WriteDraftFile(*d, "original.jpg", "jpeg bytes").ok());
  auto repair = BreakJournal(f.spool);
  Status s = f.spool.Commit(*d, ClaimState::kFetched, "fetch", "");
  CHECK(s.ok());
  CHECK(d->dir == f.spool.StateDir(ClaimState::kFetched) / d->claim.id);
  // A caller that cleans up after a failure elsewhere cannot delete a
  // committed claim: only drafts in tmp/ are discarded.
  f.spool.DiscardDraft(*d);
  CHECK(f.spool.LoadIn(ClaimState::kFetched, d->claim.id).ok());
  CHECK(f.spool.HasClaimFile(*f.spool.Load(d->claim.id), "original.jpg"));
  repair();
  REQUIRE(f.spool.ReconcileJournal().ok());
  CHECK(LastJournalTo(f.spool, d->claim.id) == "fetched");
}

TEST_CASE("journal: DiscardDraft removes an uncommitted draft") {
  testing::SpoolFixture f;
  auto d = f.spool.NewDraft(NewClaimId());
  REQUIRE(d.ok());
  REQUIRE(fs::is_directory(d->dir));
  f.spool.DiscardDraft(*d);
  CHECK_FALSE(fs::exists(d->dir));
}

}  // namespace ncbocr
