// The submit stage: ready claims go to NCB exactly once.
//
// Each claim carries a stable Idempotency-Key (ncb.h), so a response lost
// after NCB committed the claim makes the retry a replay, never a second
// claim. Outcomes follow ../shared/ncb-api.md: 200/201/409 -> submitted with
// the reference; 400 -> review with NCB's reason; 401/403 -> the stage stops
// and every claim stays queued; 429 and transient errors -> deferred with
// backoff (Retry-After honoured), failed after ncb.max_attempts.
#ifndef NCBOCR_SUBMIT_H_
#define NCBOCR_SUBMIT_H_

#include "ncbocr/ncb.h"
#include "ncbocr/stage.h"

namespace ncbocr {

// Submits every ready claim (and due deferred ones) through client. No lock:
// the caller holds it (RunSubmitStage) or is a test.
StageReport SubmitClaims(StageContext& ctx, NcbClient& client);

// Opens the configured client and runs the stage under its lock.
StageReport RunSubmitStage(StageContext& ctx);

}  // namespace ncbocr

#endif  // NCBOCR_SUBMIT_H_
