// Alerts: emails to the operations team when something needs a person.
//
// Three kinds (all through smtp.h):
//   - exception alerts: claims newly waiting for a clerk (review or failed),
//     batched into one message per check, with claim id, sender address and
//     reason, and nothing else personal;
//   - system alerts: conditions of the pipeline (NCB unavailable longer than
//     ncb.alert_after with the claims queued for it; NCB or the mail source
//     refusing credentials, e.g. an invalid Gmail token; a stage failing
//     health.max_consecutive_failures times in a row or not succeeding within
//     health.stage_interval; the spool's disk below health.min_free_percent);
//   - the daily summary (emails, claims submitted, exceptions queued, average
//     confidence over the last 24 hours).
// A condition alerts once when it starts and once when it clears, never on
// every check: the last state sent is kept in <spool>/alerts/state.json, keyed
// by condition, and is only updated after the server took the message, so a
// failed send is retried on the next check. Checks take the spool's "alerts"
// lock, so overlapping cron runs cannot send the same alert twice.
#ifndef NCBOCR_ALERTS_H_
#define NCBOCR_ALERTS_H_

#include <string>
#include <vector>

#include "ncbocr/config.h"
#include "ncbocr/log.h"
#include "ncbocr/smtp.h"
#include "ncbocr/spool.h"
#include "ncbocr/status.h"

namespace ncbocr {

// One system condition as evaluated now.
struct AlertCondition {
  std::string key;     // stable: "ncb_unavailable", "stage_failing:ocr", ...
  bool active = false;
  std::string title;   // for the subject: "NCB unavailable"
  std::string detail;  // for the body: since when, how many claims queued...
};

// Evaluates every system condition from the spool (journal, stage records,
// queues, free disk space) and the configuration. Never fails: what cannot
// be read (a missing stage record) counts as "never ran".
std::vector<AlertCondition> EvaluateConditions(const Config& config, const Spool& spool, TimePoint now);

struct AlertCheckReport {
  int sent = 0;                         // messages the server took
  std::vector<std::string> raised;      // condition keys alerted this check
  std::vector<std::string> cleared;     // condition keys resolved this check
  std::vector<std::string> new_claims;  // claim ids in this check's exception alert
  bool skipped_locked = false;          // another check held the lock
};

// Sends what changed since the last check: one message per condition that
// started or cleared, one batched message for claims newly waiting for a
// person. Errors: the first failed send stops the check with the sender's
// status (kUnavailable, kCredentials, kConfig: see smtp.h); what was sent
// before it is recorded. kIo when the alerts lock or alerts/state.json
// cannot be taken or written (a message may then be sent again next check:
// an alert twice rather than never). Another check holding the lock: ok
// with skipped_locked, nothing sent.
Result<AlertCheckReport> CheckAlerts(const Config& config, const Spool& spool, MailSender& sender,
                                     TimePoint now, Logger log);

// The daily summary over the 24 hours before now. Never fails.
MailMessage DailySummary(const Spool& spool, TimePoint now);
// Sends it. Errors: the sender's (smtp.h).
Status SendDailySummary(const Config& config, const Spool& spool, MailSender& sender, TimePoint now);

// A message that proves the SMTP settings work. Errors as SendDailySummary.
Status SendTestAlert(const Config& config, MailSender& sender, TimePoint now);

}  // namespace ncbocr

#endif  // NCBOCR_ALERTS_H_
