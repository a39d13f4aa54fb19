// Retry: put parked claims back into the pipeline now, on a person's word.
//
// A deferred claim goes to the state it was waiting for (resume_state) at
// once instead of at next_attempt_at. A failed claim goes back to the stage
// it failed at, read from its history: the state it was in when it was moved
// to failed (fetched for an OCR failure, ready for a submit failure...). If
// the history does not say (an old or hand-made claim), it starts again from
// fetched, which is always safe because every stage is idempotent and the
// Idempotency-Key keeps NCB from taking a claim twice. Attempts start again at
// zero; the history is kept and gains a "retry by user:NAME" line.
#ifndef NCBOCR_RETRY_H_
#define NCBOCR_RETRY_H_

#include <string>
#include <vector>

#include "ncbocr/spool.h"
#include "ncbocr/status.h"

namespace ncbocr {

// Where a retry sends c. kPermanent if c is neither failed nor deferred (a
// claim in review is for `exceptions approve`; final states stay final), or
// if fetch parked it without a receipt (nothing for a stage to redo).
Result<ClaimState> RetryTarget(const Claim& c);

struct RetryOutcome {
  std::string id;
  ClaimState from = ClaimState::kFailed;
  ClaimState to = ClaimState::kFetched;
  Status status;
};

// Retries each claim; one that cannot be retried does not stop the others.
// REQUIRES: the caller holds LockForManualChange (review.h).
std::vector<RetryOutcome> RetryClaims(const Spool& spool, const std::vector<std::string>& ids,
                                      const std::string& user);

// The ids of every claim in `state` (failed or deferred; kUsage otherwise).
Result<std::vector<std::string>> RetryableIds(const Spool& spool, const std::string& state);

}  // namespace ncbocr

#endif  // NCBOCR_RETRY_H_
