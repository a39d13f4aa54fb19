// Reports on the spool for people and monitors: queue sizes and ages, the
// last run of each stage (status), and claim listings (claims).
#ifndef NCBOCR_REPORT_H_
#define NCBOCR_REPORT_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/spool.h"

namespace ncbocr {

// The pipeline's stages, in order.
const std::vector<std::string>& PipelineStages();
// The pipeline's stages plus every other run record in stages/ (alert,
// metrics, ...), sorted by name.
std::vector<std::string> RecordedStages(const Spool& spool);

// {"queues": {STATE: COUNT}, "oldest_age_s": {STATE: SECONDS|null},
//  "for_clerk": {"receipts": N, "nothing_to_claim": N},
//  "stages": {STAGE: {last run record, with "host" and "pid"} | null},
//  "runs": {STAGE: StageRunJson}}
// for_clerk splits the claims in review and failed: those with a receipt
// attachment, and those of emails with nothing to claim (no attachment, only
// a claim form or signature logos), which a clerk answers differently.
nlohmann::json StatusJson(const Spool& spool, TimePoint now);
// The runs of a stage under way now, or that died, as seen from any host
// sharing the spool (several at once for a stage whose runs share its
// queue): each lease (host, pid, run, started_at, renewed_at, lease_s),
// "renewed_age_s", "lock_held" and "state", one of
//   running  the run holds its lease and renewed it in time;
//   stale    it holds its lease but has not renewed it for lease_s: the run
//            hangs, or its host died and the lock lasts until the file
//            server's own lease for that host ends (NFS v4: 90 s);
//   locked   the stage lock is held with no lease: a run just starting, or
//            a command that takes stage locks (backup);
//   died     a lease nobody holds: the run was killed or its host died;
//            the next run of the stage recovers its claims.
// An empty array when the stage is neither locked nor leased.
nlohmann::json StageRunJson(const Spool& spool, const std::string& stage, TimePoint now);
std::string StatusText(const nlohmann::json& status);

// One summary object per claim (id, state, source email id, file, sha256,
// confidence, NCB reference, reason), oldest first; all states if state is empty.
nlohmann::json ClaimsJson(const Spool& spool, const std::vector<ClaimState>& states);
std::string ClaimsText(const nlohmann::json& claims);
// A whole claim record, readable.
std::string ClaimText(const Claim& c, const std::string& dir);

}  // namespace ncbocr

#endif  // NCBOCR_REPORT_H_
