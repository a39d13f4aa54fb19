// Health: the yes/no answer a monitor wants from `ncbocr status --check`,
// with one line per problem a person can act on.
//
// Problems (thresholds in HealthConfig, health: in the configuration):
//   stage      a stage has not succeeded within health.stage_interval.STAGE
//              seconds since its last success; a stage that never ran counts
//              only if claims wait for it (fetch has no queue, so a fetch that
//              never ran is not a problem until it has run once)
//   failing    a stage's last health.max_consecutive_failures runs all failed
//   backlog    more than health.max_backlog claims wait in fetched, ocred,
//              ready and submitted together
//   review     more than health.max_review claims wait for a clerk
//   retrying   deferred claims that have tried health.max_claim_attempts times
//   poison     claims on which a stage's run died (killed, timed out, out of
//              memory) and that wait for another try, and claims parked in
//              failed after dying max_attempts times (stage.h)
//   ncb        NCB unreachable for longer than ncb.alert_after, from the
//              outage record submit keeps (stages/ncb-outage.json, ncb_http.h);
//              without one (a file:// outbox), a claim deferred by submit with
//              a transport error or HTTP 5xx for that long
//   disk       less than health.min_free_percent free on the spool's file system
// Lines name stages, counts and claim ids only, never claim contents, because
// monitors forward them to mail and chat.
#ifndef NCBOCR_HEALTH_H_
#define NCBOCR_HEALTH_H_

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/config.h"
#include "ncbocr/spool.h"

namespace ncbocr {

struct HealthProblem {
  std::string check;    // stage, failing, backlog, review, retrying, poison, ncb, disk
  std::string message;  // one line, no personal data
};

struct HealthReport {
  std::vector<HealthProblem> problems;
  bool healthy() const { return problems.empty(); }
  // {"healthy": bool, "problems": [{"check", "message"}]}
  nlohmann::json ToJson() const;
  // One line per problem ("check: message"), or "healthy" when there is none.
  std::string ToText() const;
};

// Runs every check against the spool at time now. free_percent overrides the
// measured free space of the spool's file system (tests); nullopt measures it.
HealthReport CheckHealth(const Spool& spool, const Config& config, TimePoint now,
                         std::optional<double> free_percent = std::nullopt);

// Free space of the file system holding path, in percent of its size
// (what an unprivileged process may use); nullopt if statvfs fails.
std::optional<double> FreeSpacePercent(const fs::path& path);

}  // namespace ncbocr

#endif  // NCBOCR_HEALTH_H_
