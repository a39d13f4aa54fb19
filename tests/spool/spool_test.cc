#include "ncbocr/spool.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <doctest/doctest.h>

#include "test_util.h"

using namespace ncbocr;
using ncbocr::testing::PutClaim;
using ncbocr::testing::TempDir;
using nlohmann::json;

TEST_CASE("spool: open creates the queue directories, private") {
  TempDir t;
  auto s = Spool::Open(t.path() / "spool");
  REQUIRE(s.ok());
  for (ClaimState st : AllClaimStates()) CHECK(fs::is_directory(s->StateDir(st)));
  auto perms = fs::status(t.path() / "spool").permissions();
  CHECK((perms & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
}

TEST_CASE("spool: a draft is invisible until committed, then in exactly one state") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  auto d = s->NewDraft("20240101-000000-aaaaaaaa");
  REQUIRE(d.ok());
  REQUIRE(s->WriteDraftFile(*d, "original.jpg", "bytes").ok());
  for (ClaimState st : AllClaimStates()) CHECK(s->List(st).empty());
  CHECK_FALSE(s->Exists("20240101-000000-aaaaaaaa"));

  REQUIRE(s->Commit(*d, ClaimState::kFetched, "fetch", "").ok());
  CHECK(s->List(ClaimState::kFetched) == std::vector<std::string>{"20240101-000000-aaaaaaaa"});
  auto c = s->Load("20240101-000000-aaaaaaaa");
  REQUIRE(c.ok());
  CHECK(c->state == ClaimState::kFetched);
  CHECK(c->history.size() == 1);
  CHECK(*s->ReadClaimFile(*c, "original.jpg") == "bytes");
  auto j = s->ReadJournal();
  REQUIRE(j.ok());
  REQUIRE(j->size() == 1);
  CHECK((*j)[0]["to"] == "fetched");
}

TEST_CASE("spool: a crash between writing a draft and its rename loses nothing visible and is swept") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  auto d = s->NewDraft("20240101-000000-bbbbbbbb");
  REQUIRE(d.ok());
  REQUIRE(s->WriteDraftFile(*d, "original.jpg", "half").ok());
  // "Crash": the draft is never committed.
  CHECK(s->SweepTmp(std::chrono::hours(1)) == 0);  // too young to be stale
  fs::last_write_time(d->dir, fs::file_time_type::clock::now() - std::chrono::hours(2));
  CHECK(s->SweepTmp(std::chrono::hours(1)) == 1);
  CHECK_FALSE(fs::exists(d->dir));
  for (ClaimState st : AllClaimStates()) CHECK(s->List(st).empty());
}

TEST_CASE("spool: move updates history and journal; a stale copy cannot move again") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  Claim c = PutClaim(*s, ClaimState::kFetched);
  Claim stale = c;
  REQUIRE(s->Move(c, ClaimState::kOcred, "ocr", "").ok());
  CHECK(c.state == ClaimState::kOcred);
  CHECK(s->List(ClaimState::kFetched).empty());
  CHECK(s->List(ClaimState::kOcred).size() == 1);
  Status again = s->Move(stale, ClaimState::kReview, "ocr", "x");
  CHECK(again.kind() == ErrorKind::kTransient);
  CHECK(s->List(ClaimState::kReview).empty());
  auto loaded = s->Load(c.id);
  REQUIRE(loaded.ok());
  CHECK(loaded->history.size() == 2);
  CHECK(loaded->history.back().from == "fetched");
  CHECK(loaded->history.back().to == "ocred");
}

TEST_CASE("spool: a crash after the manifest update but before the rename leaves the old state") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  Claim c = PutClaim(*s, ClaimState::kFetched);
  // Simulate the first half of Move: the manifest says ocred, the directory
  // was never renamed.
  Claim half = c;
  half.state = ClaimState::kOcred;
  REQUIRE(AtomicWriteFile(s->ClaimDir(c) / "claim.json", half.ToJson().dump()).ok());
  auto loaded = s->Load(c.id);
  REQUIRE(loaded.ok());
  CHECK(loaded->state == ClaimState::kFetched);  // the directory decides
  CHECK(s->List(ClaimState::kOcred).empty());
}

TEST_CASE("spool: defer counts attempts and comes due") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  Claim c = PutClaim(*s, ClaimState::kReady);
  REQUIRE(s->Defer(c, ClaimState::kReady, std::chrono::seconds(3600), "submit", "NCB down").ok());
  CHECK(c.attempts == 1);
  CHECK(c.state == ClaimState::kDeferred);
  auto now = std::chrono::system_clock::now();
  CHECK(s->DueDeferred(ClaimState::kReady, now).empty());
  CHECK(s->DueDeferred(ClaimState::kReady, now + std::chrono::hours(2)).size() == 1);
  CHECK(s->DueDeferred(ClaimState::kFetched, now + std::chrono::hours(2)).empty());
  // Back to ready keeps the count; the next stage starts clean.
  REQUIRE(s->Move(c, ClaimState::kReady, "submit", "retry").ok());
  CHECK(c.attempts == 1);
  REQUIRE(s->Move(c, ClaimState::kSubmitted, "submit", "").ok());
  CHECK(c.attempts == 0);
}

TEST_CASE("spool: the first claim to index a digest wins") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  std::string sha = Sha256Hex("x");
  auto first = s->ClaimSha(sha, "id-1");
  REQUIRE(first.ok());
  CHECK_FALSE(first->has_value());
  auto second = s->ClaimSha(sha, "id-2");
  REQUIRE(second.ok());
  REQUIRE(second->has_value());
  CHECK(**second == "id-1");
  CHECK(s->LookupSha(sha) == std::optional<std::string>("id-1"));

  REQUIRE(s->IndexSource("eml:a.eml#0", "id-9").ok());
  CHECK(s->LookupSource("eml:a.eml#0") == std::optional<std::string>("id-9"));
  CHECK_FALSE(s->LookupSource("eml:a.eml#1").has_value());
}

TEST_CASE("spool: a stage lock is exclusive") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  auto a = s->TryLockStage("ocr");
  REQUIRE(a.ok());
  CHECK(a->held());
  auto b = s->TryLockStage("ocr");
  REQUIRE(b.ok());
  CHECK_FALSE(b->held());
  auto other = s->TryLockStage("submit");
  REQUIRE(other.ok());
  CHECK(other->held());
  *a = StageLock();  // release
  auto c = s->TryLockStage("ocr");
  REQUIRE(c.ok());
  CHECK(c->held());
}

TEST_CASE("spool: two processes moving the same claim: exactly one wins") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  for (int round = 0; round < 20; ++round) {
    Claim c = PutClaim(*s, ClaimState::kFetched, "r" + std::to_string(round));
    pid_t kids[2];
    for (int k = 0; k < 2; ++k) {
      kids[k] = fork();
      if (kids[k] == 0) {
        Claim mine = c;
        Status st = s->Move(mine, k == 0 ? ClaimState::kOcred : ClaimState::kFailed, "t", "");
        _exit(st.ok() ? 0 : 1);
      }
    }
    int wins = 0;
    for (pid_t k : kids) {
      int status = 0;
      waitpid(k, &status, 0);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++wins;
    }
    CHECK(wins == 1);
    int places = 0;
    for (ClaimState st : AllClaimStates()) {
      for (const auto& id : s->List(st)) places += id == c.id;
    }
    CHECK(places == 1);
  }
}

TEST_CASE("spool: ids that could escape the spool are refused") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  CHECK_FALSE(s->Load("../etc").ok());
  CHECK_FALSE(s->Load("a/b").ok());
  CHECK_FALSE(s->Load("").ok());
  CHECK(s->Load("../etc").status().kind() == ErrorKind::kPermanent);
}

// Takes the lock of claim `id` as another process (or host) would: its own
// open of locks/claims.lock, an OFD lock on the claim's byte. -1 on failure.
static int HoldClaimLock(const Spool& s, const std::string& id) {
  int fd = ::open((s.root() / "locks" / "claims.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(Spool::ClaimLockOffset(id));
  fl.l_len = 1;
  if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_CASE("spool: a claim's lock byte is fixed by its id alone") {
  // FNV-1a 64 of "" is its offset basis; of "a", the published value. Cut to
  // 40 bits: every host and version on a shared spool must agree on these.
  CHECK(Spool::ClaimLockOffset("") == (14695981039346656037ull & ((1ull << 40) - 1)));
  CHECK(Spool::ClaimLockOffset("a") == (0xaf63dc4c8601ec8cull & ((1ull << 40) - 1)));
  CHECK(Spool::ClaimLockOffset("20240101-000000-aaaaaaaa") != Spool::ClaimLockOffset("20240101-000000-aaaaaaab"));
}

TEST_CASE("spool: a move waits while another holds the claim's lock, other claims do not") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  Claim held = PutClaim(*s, ClaimState::kFetched, "held");
  Claim free = PutClaim(*s, ClaimState::kFetched, "free");
  int fd = HoldClaimLock(*s, held.id);
  REQUIRE(fd >= 0);

  // Another claim moves at once: its byte is not the held one.
  REQUIRE(Spool::ClaimLockOffset(free.id) != Spool::ClaimLockOffset(held.id));
  CHECK(s->Move(free, ClaimState::kOcred, "t", "").ok());

  std::atomic<bool> done{false};
  Status result;
  std::thread mover([&] {
    Claim c = held;
    result = s->Move(c, ClaimState::kOcred, "t", "");
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(done.load());  // still waiting for the lock
  CHECK(s->List(ClaimState::kFetched) == std::vector<std::string>{held.id});
  ::close(fd);
  mover.join();
  CHECK(result.ok());
  CHECK(s->List(ClaimState::kOcred).size() == 2);
}

TEST_CASE("spool: a stage run's lease names its host and process, is locked, renewed and ends with the run") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  CHECK(s->ReadStageLeases("ocr").empty());
  CHECK_FALSE(s->StageLockHeld("ocr"));

  auto lock = s->TryLockStage("ocr");
  REQUIRE(lock.ok());
  REQUIRE(lock->held());
  CHECK(s->StageLockHeld("ocr"));  // seen through another open of the file
  CHECK_FALSE(s->StageLockHeld("submit"));
  auto run = s->BeginStageRun("ocr", "run1");
  REQUIRE(run.ok());
  CHECK_FALSE(run->interrupted());
  auto leases = s->ReadStageLeases("ocr");
  REQUIRE(leases.size() == 1);
  json lease = leases[0];
  CHECK(lease["host"] == HostName());
  CHECK(lease["pid"] == static_cast<long>(::getpid()));
  CHECK(lease["run"] == "run1");
  CHECK(lease["lease_s"] == kStageLeaseSeconds);
  CHECK(lease["renewed_at"] == lease["started_at"]);
  CHECK(lease["alive"] == true);

  // Renewal keeps the start and moves renewed_at on.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  REQUIRE(s->RenewStageRun(*run).ok());
  json renewed = s->ReadStageLeases("ocr").at(0);
  CHECK(renewed["started_at"] == lease["started_at"]);
  CHECK(renewed["renewed_at"] != lease["renewed_at"]);

  // A second run sees this one alive and leaves it alone; a run that ended
  // leaves nothing behind.
  auto second = s->BeginStageRun("ocr", "run2");
  REQUIRE(second.ok());
  CHECK_FALSE(second->interrupted());
  CHECK(s->ReadStageLeases("ocr").size() == 2);
  s->EndStageRun(*second);
  s->EndStageRun(*run);
  CHECK(s->ReadStageLeases("ocr").empty());

  // A run that died (its lock gone, its lease left) is seen, once, by the next.
  { auto dies = s->BeginStageRun("ocr", "run3"); REQUIRE(dies.ok()); }
  leases = s->ReadStageLeases("ocr");
  REQUIRE(leases.size() == 1);
  CHECK(leases[0]["alive"] == false);
  auto next = s->BeginStageRun("ocr", "run4");
  REQUIRE(next.ok());
  CHECK(next->interrupted());
  CHECK(s->ReadStageLeases("ocr").size() == 1);  // its own
}

TEST_CASE("spool: claim work locks: one run per claim, shared stage locks keep out only an exclusive one") {
  TempDir t;
  auto s = Spool::Open(t.path());
  REQUIRE(s.ok());
  auto a = s->TryLockStage("ocr", /*shared=*/true);
  auto b = s->TryLockStage("ocr", /*shared=*/true);
  REQUIRE((a.ok() && b.ok()));
  CHECK(a->held());
  CHECK(b->held());
  auto exclusive = s->TryLockStage("ocr");
  REQUIRE(exclusive.ok());
  CHECK_FALSE(exclusive->held());  // backup waits for every run

  auto w1 = s->TryLockClaimWork("ocr", "claim-1");
  REQUIRE(w1.ok());
  CHECK(w1->held());
  auto again = s->TryLockClaimWork("ocr", "claim-1");
  REQUIRE(again.ok());
  CHECK_FALSE(again->held());
  auto other = s->TryLockClaimWork("ocr", "claim-2");
  REQUIRE(other.ok());
  CHECK(other->held());
  auto other_stage = s->TryLockClaimWork("extract", "claim-1");
  REQUIRE(other_stage.ok());
  CHECK(other_stage->held());
  *w1 = StageLock();
  auto after = s->TryLockClaimWork("ocr", "claim-1");
  REQUIRE(after.ok());
  CHECK(after->held());
}
