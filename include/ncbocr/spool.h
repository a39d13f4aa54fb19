// Spool: the on-disk queue that hands claims from stage to stage.
//
// Layout under the spool root (all directories mode 0700):
//   tmp/                 drafts being built; swept when older than an hour
//   <state>/<claim-id>/  one directory per claim, in exactly one state dir
//   index/sha256/<hex>   first claim id seen with that attachment content
//   index/source/<hex>   claim id created for a (source, email, part) key
//   journal/journal.log  append-only JSON lines, one per transition
//   journal/unjournaled  present while a move's journal line failed to append
//   locks/<stage>.lock   an fcntl open-file-description lock per stage
//   locks/claims.lock    per-claim locks: one byte of it per claim (below)
//   locks/<stage>.work   a stage's claim work locks: one byte per claim
//   stages/<stage>.json  last run of each stage (start, duration, result)
//   stages/<stage>@<run>.running  the lease of a run under way, locked by
//                        it (left behind, unlocked, by a run that died: see
//                        BeginStageRun and ReconcileJournal)
//
// The only way a claim changes state is Spool::Move/Defer/Commit, which update
// the manifest in place (write-temp, fsync, rename) and then rename(2) the
// whole claim directory into the target state directory, fsyncing both parent
// directories. A rename is atomic, so after a crash a claim is in exactly one
// state: the old one (and the stage redoes its work) or the new one. Stage
// code never calls rename itself.
//
// The move never replaces a claim: it uses renameat2(RENAME_NOREPLACE). File
// systems shared between hosts (NFS, CephFS, many cloud file stores) answer
// that call with EINVAL; the first such answer switches this Spool object to
// plain rename(2), which is just as safe here: rename(2) of a directory onto
// an existing non-empty directory fails (ENOTEMPTY/EEXIST), and a claim
// directory is never empty (its manifest is written before it is first
// renamed into a state and is only ever replaced in place). Tested by running
// the concurrency test with renameat2 made to answer EINVAL (an LD_PRELOAD
// shim, tests/shims/).
//
// Locks. Every lock is an fcntl open-file-description lock (F_OFD_SETLK),
// which an NFS v4 server enforces between its clients; flock(2), by contrast,
// is emulated per client by Linux's NFS client and would not exclude a
// process on another host. A stage run holds locks/<stage>.lock for its
// whole run (TryLockStage: a second run of the stage skips), or, for a stage
// whose runs share its queue (ocr), a shared lock: runs then exclude each
// other claim by claim, through TryLockClaimWork, and the stage lock only
// keeps out what takes it exclusively (backup). A manifest
// rewrite or a move holds, for a few milliseconds, the claim's lock: one byte
// of locks/claims.lock, at ClaimLockOffset(id), waited for. One file serves
// every claim, so no lock file is ever created or removed per claim (removing
// lock files is what makes lock-file schemes racy). Two ids that hash to one
// byte only wait for each other; no code holds two claim locks at once, so
// that cannot deadlock.
//
// Recovery after a host dies: its locks go with it. On a local file system
// that is when the process exits; on NFS v4 the server drops a dead client's
// locks when its lease runs out (90 s by default). Until then the next run of
// a stage on another host skips ("another run holds the lock"); after it, the
// run takes over, finds stages/<stage>.running and repairs the journal, and
// the claims the dead run had open are retried as interrupted attempts.
// `ncbocr status` shows which host holds or last held each stage and when its
// lease expires (stages/<stage>@<run>.running is renewed while a run is
// alive, and locked by it, so any host can tell a live run from a dead one).
#ifndef NCBOCR_SPOOL_H_
#define NCBOCR_SPOOL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ncbocr/claim.h"
#include "ncbocr/clock.h"
#include "ncbocr/status.h"

namespace ncbocr {

namespace fs = std::filesystem;

// A stage run renews its lease (stages/<stage>.running) this often; status
// calls a run whose lease is older than kStageLeaseSeconds stale.
constexpr int kStageRenewSeconds = 30;
constexpr int kStageLeaseSeconds = 120;

// A held lock (a stage lock, TryLockStage, or a claim work lock,
// TryLockClaimWork); released when destroyed.
class StageLock {
 public:
  StageLock() = default;
  explicit StageLock(int fd) : fd_(fd) {}
  StageLock(StageLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StageLock& operator=(StageLock&& o) noexcept;
  StageLock(const StageLock&) = delete;
  StageLock& operator=(const StageLock&) = delete;
  ~StageLock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A run's lease, stages/<stage>@<run>.running, held (locked) by the run.
class RunLease {
 public:
  RunLease() = default;
  RunLease(RunLease&& o) noexcept;
  RunLease& operator=(RunLease&& o) noexcept;
  RunLease(const RunLease&) = delete;
  RunLease& operator=(const RunLease&) = delete;
  ~RunLease();
  bool held() const { return fd_ >= 0; }
  // A run of the stage died before this one began (its lease was found
  // unlocked): the journal may be behind, and claims may hold its attempts.
  bool interrupted() const { return interrupted_; }

 private:
  friend class Spool;
  int fd_ = -1;
  fs::path path_;
  std::string body_;  // the lease as written, for renewals
  bool interrupted_ = false;
};

// A claim under construction in tmp/, invisible to every stage until committed.
struct ClaimDraft {
  Claim claim;
  fs::path dir;
};

class Spool {
 public:
  // Opens (creating if needed) the spool at root. Fails with kIo if it cannot
  // be created or is not writable.
  static Result<Spool> Open(const fs::path& root);

  const fs::path& root() const { return root_; }
  fs::path StateDir(ClaimState s) const;

  // --- creation (fetch) ---
  // Starts a draft claim with the given id in tmp/.
  Result<ClaimDraft> NewDraft(const std::string& id) const;
  // Writes a file into the draft (fsynced). mode applies to the file.
  Status WriteDraftFile(const ClaimDraft& d, const std::string& name,
                        const std::string& bytes, unsigned mode = 0600) const;
  // Writes the manifest and renames the draft into `state`. On success the
  // draft directory no longer exists and d.dir names the claim's directory.
  // Fails only before the rename (the draft is then still in tmp/, for the
  // caller to remove or SweepTmp to sweep). Once the rename has happened the
  // claim is committed: a journal line that cannot be appended afterwards
  // does not fail the call but leaves a journal gap (JournalGapSuspected)
  // that the next stage run repairs (ReconcileJournal).
  Status Commit(ClaimDraft& d, ClaimState state, const std::string& actor,
                const std::string& reason) const;
  // Removes a draft that was not committed. Only ever touches tmp/: a draft
  // that Commit has renamed into a state is left alone.
  void DiscardDraft(const ClaimDraft& d) const;

  // --- lookup ---
  // Ids in a state, oldest first (ids sort by creation time).
  std::vector<std::string> List(ClaimState s) const;
  // Finds a claim in any state; kPermanent "no such claim" if absent.
  Result<Claim> Load(const std::string& id) const;
  Result<Claim> LoadIn(ClaimState s, const std::string& id) const;
  fs::path ClaimDir(const Claim& c) const;
  // Count and oldest creation time per state.
  struct QueueStat { ClaimState state; size_t count = 0; std::optional<TimePoint> oldest; };
  std::vector<QueueStat> Stats() const;

  // --- claim files (ocr.json, extract.json, ...) ---
  Status WriteClaimFile(const Claim& c, const std::string& name,
                        const std::string& bytes, unsigned mode = 0600) const;
  Result<std::string> ReadClaimFile(const Claim& c, const std::string& name) const;
  // The values of a claim (ClaimValuesOf its extract.json). kPermanent if
  // extract.json is missing or is not JSON.
  Result<ClaimValues> LoadClaimValues(const Claim& c) const;
  bool HasClaimFile(const Claim& c, const std::string& name) const;
  // Rewrites the manifest in place without a state change.
  Status SaveManifest(const Claim& c) const;

  // --- transitions ---
  // Moves c to `to`, appending history and a journal line. c.state is updated
  // and c.open_attempt cleared (the move ends the attempt).
  // If the claim is no longer where c says (another process moved it), returns
  // kTransient "claim moved concurrently" and changes nothing. Any other
  // failure comes before the rename and changes nothing either. As with
  // Commit, a journal line that cannot be appended after the rename leaves a
  // journal gap, not a failure: the move has happened.
  Status Move(Claim& c, ClaimState to, const std::string& actor,
              const std::string& reason) const;
  // Moves c to deferred with resume_state=resume and the next attempt after
  // delay; increments attempts.
  Status Defer(Claim& c, ClaimState resume, std::chrono::seconds delay,
               const std::string& actor, const std::string& reason) const;
  // Deferred claims whose resume state is `resume` and whose time has come.
  std::vector<std::string> DueDeferred(ClaimState resume, TimePoint now) const;

  // --- dedup and idempotency indexes ---
  // Records id as the first holder of sha; returns the existing holder if
  // there was one (then nothing is written).
  Result<std::optional<std::string>> ClaimSha(const std::string& sha256,
                                              const std::string& id) const;
  std::optional<std::string> LookupSha(const std::string& sha256) const;
  // Source key -> claim id, for idempotent re-fetch.
  Status IndexSource(const std::string& source_key, const std::string& id) const;
  std::optional<std::string> LookupSource(const std::string& source_key) const;
  // True if a claim with this id exists in any state.
  bool Exists(const std::string& id) const;

  // --- locks, housekeeping, journal ---
  // The byte of locks/claims.lock that is the lock of claim `id`: FNV-1a
  // (64-bit) of the id, cut to 40 bits. Part of the on-disk contract: every
  // process sharing a spool must agree on it.
  static uint64_t ClaimLockOffset(const std::string& id);
  // Tries to take the stage lock without waiting; an unheld StageLock means
  // another process holds it. shared: a read lock, which other shared
  // holders do not exclude (the runs of a stage that share its queue).
  Result<StageLock> TryLockStage(const std::string& stage, bool shared = false) const;
  // Tries to take the claim's work lock for stage without waiting: one byte
  // (ClaimLockOffset) of locks/<stage>.work. A run holds it from before it
  // begins its attempt on the claim until the claim has moved on, so runs
  // that share a queue never work on one claim at once. Unheld: another run
  // has the claim.
  Result<StageLock> TryLockClaimWork(const std::string& stage, const std::string& id) const;
  // Removes drafts in tmp/ older than max_age. Returns how many were removed.
  int SweepTmp(std::chrono::seconds max_age) const;
  // Appends one JSON object as a line to the journal.
  Status AppendJournal(const nlohmann::json& entry) const;
  // All journal entries (for status, statistics and consistency checks).
  Result<std::vector<nlohmann::json>> ReadJournal() const;
  // A move is journaled after its rename, so a crash (or a full disk) in
  // between leaves a claim one move ahead of the journal; its manifest,
  // written before the rename, still holds that move. This appends, for
  // every claim whose journal does not end where the claim is, the
  // manifest's last move (marked "recovered"). Returns how many lines it
  // appended. Reads the whole journal and every manifest: RunStage calls it
  // only after an interrupted run or a failed append (JournalGapSuspected).
  Result<int> ReconcileJournal() const;
  // True if a journal append failed after its move (see ReconcileJournal).
  bool JournalGapSuspected() const;
  // Starts run `run` of stage: writes its lease, stages/<stage>@<run>.running
  // ({"host", "pid", "run", "started_at", "renewed_at", "lease_s"}), and
  // locks it for as long as the RunLease lives. First removes the leases of
  // runs that died (unlocked ones, and the plain <stage>.running of older
  // versions); RunLease::interrupted() tells whether there were any.
  Result<RunLease> BeginStageRun(const std::string& stage, const std::string& run) const;
  // Renews the lease (renewed_at = now). A live run renews it every
  // kStageRenewSeconds; one not renewed for kStageLeaseSeconds is stale.
  Status RenewStageRun(RunLease& lease) const;
  // Removes the lease and releases it.
  void EndStageRun(RunLease& lease) const;
  // The leases of stage's runs under way, or of runs that died: each lease
  // object plus "alive" (its lock is held, on this host or another).
  std::vector<nlohmann::json> ReadStageLeases(const std::string& stage) const;
  // True if some process, on this host or (NFS v4) another, holds the stage
  // lock now. Takes no lock.
  bool StageLockHeld(const std::string& stage) const;
  // Stage run records.
  Status WriteStageRun(const std::string& stage, const nlohmann::json& run) const;
  std::optional<nlohmann::json> ReadStageRun(const std::string& stage) const;

 private:
  explicit Spool(fs::path root) : root_(std::move(root)) {}
  // Moves a claim directory without ever replacing one (see the top).
  Status RenameNoReplace(const fs::path& from, const fs::path& to) const;
  Status RenameClaimDir(const fs::path& from, const fs::path& to) const;
  // Appends a move's journal line; on failure records the gap instead.
  void JournalMove(const nlohmann::json& entry) const;
  void NoteJournalGap() const;
  fs::path root_;
  // Set once renameat2(RENAME_NOREPLACE) answered EINVAL on this spool.
  std::shared_ptr<std::atomic<bool>> plain_rename_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace ncbocr

#endif  // NCBOCR_SPOOL_H_
