// The submit stage: ready claims go to NCB exactly once.
//
// Each claim carries a stable Idempotency-Key (ncb.h), so a response lost
// after NCB committed the claim makes the retry a replay, never a second
// claim. Outcomes follow ../shared/ncb-api.md: 200/201/409 -> submitted with
// the reference; 400 -> review with NCB's reason; 401/403 -> the stage stops
// and every claim stays queued; 429 and transient errors -> deferred with
// backoff (Retry-After honoured), failed after ncb.max_attempts.
#ifndef NCBOCR_SUBMIT_STAGE_H_
#define NCBOCR_SUBMIT_STAGE_H_

#include <chrono>
#include <optional>
#include <string>

#include "ncbocr/clock.h"
#include "ncbocr/log.h"
#include "ncbocr/ncb.h"
#include "ncbocr/spool.h"
#include "ncbocr/stage.h"

namespace ncbocr {

// NcbOutageWatch wraps any NcbClient and records in the spool
// (stages/ncb-outage.json) when NCB first failed to answer. When the outage
// outlasts ncb.alert_after it logs one error line (a system alert) and, when
// NCB answers again, one line saying so. Alert senders hook in through
// OutageEvent (returned by Note) or by reading ReadNcbOutage. Failing to
// save the record logs a warning and never fails a submission.

struct NcbOutage {
  std::string down_since;       // ISO 8601 UTC; "" when NCB is up
  std::string last_failure_at;
  int failures = 0;             // failed calls since down_since
  bool alerted = false;         // the alert line for this outage was logged
  std::string last_error;       // "HTTP 503" or the transport error (no personal data)
  std::string recovered_at;     // when the last outage ended
};

enum class OutageEvent { kNone, kStarted, kAlert, kRecovered };

// True when r means NCB did not handle the call: no answer, or a 5xx.
bool IsNcbDown(const NcbResponse& r);

// The recorded state; nullopt if none was ever written.
std::optional<NcbOutage> ReadNcbOutage(const Spool& spool);

class NcbOutageWatch : public NcbClient {
 public:
  NcbOutageWatch(NcbClient& inner, const Spool& spool, std::chrono::seconds alert_after, const Clock& clock,
                 Logger log);
  NcbResponse Submit(const std::string& body, const std::string& idempotency_key) override;
  Status Health() override { return inner_.Health(); }
  // Records one call's outcome; returns what changed. Public for tests and
  // for callers that talk to NCB some other way.
  OutageEvent Note(const NcbResponse& r);
  const NcbOutage& state() const { return state_; }

 private:
  void Save();
  NcbClient& inner_;
  const Spool& spool_;
  std::chrono::seconds alert_after_;
  const Clock& clock_;
  Logger log_;
  NcbOutage state_;
};

// Submits every ready claim (and due deferred ones) through client. No lock:
// the caller holds it (RunSubmitStage) or is a test.
StageReport SubmitClaims(StageContext& ctx, NcbClient& client);

// Opens the configured client and runs the stage under its lock.
StageReport RunSubmitStage(StageContext& ctx);

}  // namespace ncbocr

#endif  // NCBOCR_SUBMIT_STAGE_H_
