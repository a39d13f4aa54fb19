// The journal catches up after a crash between a move and its journal line
// (Spool::ReconcileJournal, run by RunStage after an interrupted run or a
// failed append). The crash is made by cutting the journal's last line, which
// leaves exactly the state a SIGKILL after the rename leaves.
#include <doctest/doctest.h>

#include <fstream>

#include "ncbocr/spool.h"
#include "ncbocr/stage.h"
#include "ncbocr/util.h"
#include "spool_fixture.h"

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

  // The previous run died holding the marker (as SIGKILL leaves it).
  REQUIRE(!f.spool.BeginStageRun("ocr"));
  RunStage(ctx, body);
  CHECK(LastJournalTo(f.spool, c.id) == "ocred");
  CHECK(!fs::exists(f.spool.root() / "stages" / "ocr.running"));
}

}  // namespace ncbocr
