// Stage: the frame every pipeline stage (fetch, ocr, extract, submit, archive)
// runs in.
//
// RunStage takes the stage's lock (a run that finds it held logs one line and
// returns ok; for a stage whose runs share the queue, StageContext::
// shared_queue, the lock is shared and runs exclude each other claim by
// claim), holds the run's lease (Spool::BeginStageRun) and renews it, sweeps
// stale drafts, runs the body, and records the run in stages/<name>.json. ForEachClaim walks a queue (plus due deferred claims
// bound for it), hands each claim to a handler and applies the handler's
// Disposition through the spool, so stage code never moves claims itself.
// One bad claim never stops the run: an exception or error in the handler
// parks that claim and the loop goes on.
//
// Attempts count before the work, not after: before a stage starts on a
// claim it writes the attempt into the manifest (Claim::open_attempt, fsynced)
// and the move that ends the attempt clears it. A claim that kills its worker
// (a crash, the OOM killer, timeout(1) or systemd stopping a run that hangs)
// keeps its open attempt, so the next run counts it as a failed one and,
// after max_attempts, parks the claim in failed: "gave up after 3 attempts
// (killed / timed out during ocr)". Without this such a claim would be
// started again by every run and never get further.
#ifndef NCBOCR_STAGE_H_
#define NCBOCR_STAGE_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "ncbocr/claim.h"
#include "ncbocr/clock.h"
#include "ncbocr/config.h"
#include "ncbocr/log.h"
#include "ncbocr/spool.h"
#include "ncbocr/status.h"

namespace ncbocr {

// A random id for one run of a stage.
std::string NewStageRunId();

struct StageContext {
  const Config& config;
  const Spool& spool;
  Logger log;
  const Clock& clock;
  std::string stage;  // "fetch", "ocr", ...
  // This run, as recorded in the attempts it begins (OpenAttempt::run).
  std::string run = NewStageRunId();
  // Called by RunStage after it recorded a run that did work (not one that
  // found the lock held): the command line writes the metrics file here
  // (metrics.h), which lives above the spool. May be empty.
  std::function<void(const StageContext&)> after_run{};
  // Show "ocr 12 of 250 (1.8/s, about 2m 12s left)" on the terminal while
  // ForEachClaim works (progress.h); the command line sets it for an
  // interactive run, never under cron.
  bool progress = false;
  // Runs of this stage may work its queue at once, on one host or several
  // (ocr): RunStage takes the stage lock shared, and ForEachClaim takes
  // each claim's work lock (Spool::TryLockClaimWork), skipping the claims
  // another run holds. Otherwise one run at a time, holding the stage lock.
  bool shared_queue = false;
  // Work locks this run took ahead of ForEachClaim (a stage that prepares a
  // batch of claims before it reaches them), by claim id; ForEachClaim takes
  // each over, and releases it once the claim has moved.
  std::map<std::string, StageLock> work{};
};

// What a handler decided for one claim.
struct Disposition {
  ClaimState next;                 // where the claim goes (may equal input: untouched)
  std::string reason;              // why (review, failed, rejected, deferred)
  std::chrono::seconds retry_after{0};  // for kDeferred
  // Set to stop the whole stage after this claim (e.g. NCB refused the
  // credentials): the claim stays where it is and the run returns this status.
  Status stop;
  std::string outcome;             // label for counters: "ok", "review", ...

  static Disposition To(ClaimState s, std::string outcome = "ok") {
    Disposition d; d.next = s; d.outcome = std::move(outcome); return d;
  }
  static Disposition Park(ClaimState s, std::string reason, std::string outcome) {
    Disposition d; d.next = s; d.reason = std::move(reason); d.outcome = std::move(outcome); return d;
  }
  static Disposition Retry(std::chrono::seconds after, std::string reason) {
    Disposition d; d.next = ClaimState::kDeferred; d.retry_after = after;
    d.reason = std::move(reason); d.outcome = "deferred"; return d;
  }
};

struct StageReport {
  Status status;                       // overall result of the run
  int claims = 0;                      // claims handled
  std::map<std::string, int> outcomes; // outcome label -> count
  bool skipped_locked = false;         // another run held the lock
};

using ClaimHandler = std::function<Disposition(Claim&)>;

// Processes every claim in `input` and every due deferred claim bound for it.
// Before the handler sees a claim, the attempt is recorded (BeginAttempt);
// the handler's claim has attempts = failed attempts before this one. A claim
// whose attempts (transient failures and interrupted attempts) reach
// max_attempts goes to failed instead of being deferred or worked on again.
// A disposition that leaves the claim where it is (and a stop) closes the
// attempt without counting it.
// Errors (StageReport::status): a handler's Disposition::stop, as given
// (the loop ends there; that claim and the rest stay queued); kIo when any
// claim's manifest could not be read or a claim could not be moved (the
// other claims were handled; outcomes "manifest-unreadable"/"move-failed"
// count them). A handler's exception never escapes: that claim is parked in
// failed with "internal error: ...".
StageReport ForEachClaim(StageContext& ctx, ClaimState input, int max_attempts,
                         const ClaimHandler& handler);

// Records, durably, that this run begins an attempt at c (see OpenAttempt);
// c is updated. An open attempt another run left on c is counted first as a
// failed, interrupted attempt (attempts and interrupted go up by one). If
// that uses up max_attempts, nothing is begun or written and the result is
// false: the claim is to be parked with GaveUpReason (ForEachClaim does it).
// An attempt this run already began: true, nothing written. For stages that
// work on several claims before ForEachClaim hands them over (ocr).
// REQUIRES: c was loaded from the spool and is in the stage's input queue.
// Errors: kIo when the manifest cannot be written (no work may start then).
Result<bool> BeginAttempt(const StageContext& ctx, Claim& c, int max_attempts);

// Closes the attempt this run began on c without counting it (the work was
// done and its result waits to be committed, or nothing was done). A no-op
// for an attempt begun by another run. Errors: kIo when the manifest cannot
// be written (the attempt then counts as interrupted on the next run).
Status EndAttempt(const StageContext& ctx, Claim& c);

// True if c carries an attempt begun by a run other than ctx's: that run died
// on it (or is a concurrent run of the same stage, which the stage lock rules
// out).
bool HasInterruptedAttempt(const StageContext& ctx, const Claim& c);

// "gave up after N attempts (killed / timed out during STAGE)": the reason a
// claim whose attempts kept dying is parked with. IsGaveUpInterrupted
// recognises it (status --check names those claims).
std::string GaveUpReason(const std::string& stage, const Claim& c);
bool IsGaveUpInterrupted(const std::string& reason);

// Runs body under the stage lock and records the run (stages/<name>.json,
// and the metrics file when metrics are on). Another run holding the lock:
// ok with skipped_locked, body not run. Errors: the lock file's error when
// the lock cannot be taken (kIo);
// body's status; kInternal "stage aborted: ..." when body throws. Failing
// to record the run or the metrics only logs a warning.
StageReport RunStage(StageContext& ctx, const std::function<StageReport()>& body);

// Backoff for attempt n (1-based): base * 2^(n-1), capped, with +-20% jitter.
std::chrono::seconds Backoff(int attempt, std::chrono::seconds base = std::chrono::seconds(60),
                             std::chrono::seconds cap = std::chrono::seconds(3600));

}  // namespace ncbocr

#endif  // NCBOCR_STAGE_H_
