// Stage: the frame every pipeline stage (fetch, ocr, extract, submit, archive)
// runs in.
//
// RunStage takes the stage's lock (a run that finds it held logs one line and
// returns ok), sweeps stale drafts, runs the body, and records the run in
// stages/<name>.json. ForEachClaim walks a queue (plus due deferred claims
// bound for it), hands each claim to a handler and applies the handler's
// Disposition through the spool, so stage code never moves claims itself.
// One bad claim never stops the run: an exception or error in the handler
// parks that claim and the loop goes on.
#ifndef NCBOCR_STAGE_H_
#define NCBOCR_STAGE_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "ncbocr/claim.h"
#include "ncbocr/config.h"
#include "ncbocr/log.h"
#include "ncbocr/spool.h"
#include "ncbocr/status.h"

namespace ncbocr {

// Wall clock behind an interface so tests can fix the time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const { return std::chrono::system_clock::now(); }
};

struct StageContext {
  const Config& config;
  const Spool& spool;
  Logger log;
  const Clock& clock;
  std::string stage;  // "fetch", "ocr", ...
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
// A deferred claim that has used max_attempts goes to failed instead.
StageReport ForEachClaim(StageContext& ctx, ClaimState input, int max_attempts,
                         const ClaimHandler& handler);

// Runs body under the stage lock and records the run.
StageReport RunStage(StageContext& ctx, const std::function<StageReport()>& body);

// Backoff for attempt n (1-based): base * 2^(n-1), capped, with +-20% jitter.
std::chrono::seconds Backoff(int attempt, std::chrono::seconds base = std::chrono::seconds(60),
                             std::chrono::seconds cap = std::chrono::seconds(3600));

}  // namespace ncbocr

#endif  // NCBOCR_STAGE_H_
