#include "ncbocr/retry.h"

namespace ncbocr {

namespace {

// The states a stage works on: where a failed claim can be sent back to.
bool StageInput(const std::string& state) {
  return state == "fetched" || state == "ocred" || state == "ready" || state == "submitted";
}

}  // namespace

Result<ClaimState> RetryTarget(const Claim& c) {
  if (c.state == ClaimState::kDeferred) {
    if (c.resume_state) return *c.resume_state;
  } else if (c.state != ClaimState::kFailed) {
    std::string hint = c.state == ClaimState::kReview ? " (use 'ncbocr exceptions approve' or 'reject')" : "";
    return Status::Permanent("claim " + c.id + " is in " + ClaimStateName(c.state) +
                             "; only failed and deferred claims can be retried" + hint);
  }
  // The newest move out of a stage's input state is where the claim failed;
  // "deferred -> ready -> failed" yields ready.
  for (auto it = c.history.rbegin(); it != c.history.rend(); ++it) {
    if (StageInput(it->from)) return *ParseClaimState(it->from);
    if (StageInput(it->to) && it->to != ClaimStateName(c.state)) return *ParseClaimState(it->to);
  }
  // Parked by fetch before any stage held it, with no receipt stored (a
  // message over fetch.max_message_bytes, one that is not an email): ocr
  // would only find "no receipt attachment" and hide the real reason.
  if (!c.attachment) {
    return Status::Permanent("claim " + c.id + " was parked by fetch and holds no receipt (" +
                             c.reason + "); retry cannot redo that: fix the cause and deliver "
                             "the email again, or 'ncbocr exceptions reject' the claim");
  }
  return ClaimState::kFetched;
}

std::vector<RetryOutcome> RetryClaims(const Spool& spool, const std::vector<std::string>& ids,
                                      const std::string& user) {
  std::vector<RetryOutcome> out;
  for (const auto& id : ids) {
    RetryOutcome o;
    o.id = id;
    auto c = spool.Load(id);
    if (!c.ok()) {
      o.status = c.status();
      out.push_back(o);
      continue;
    }
    o.from = c->state;
    auto to = RetryTarget(*c);
    if (!to.ok()) {
      o.status = to.status();
      out.push_back(o);
      continue;
    }
    o.to = *to;
    c->attempts = 0;  // Move keeps a deferred claim's count; a retry starts afresh
    c->interrupted = 0;
    o.status = spool.Move(*c, *to, "user:" + user, "retry by user:" + user);
    out.push_back(o);
  }
  return out;
}

Result<std::vector<std::string>> RetryableIds(const Spool& spool, const std::string& state) {
  auto s = ParseClaimState(state);
  if (!s || (*s != ClaimState::kFailed && *s != ClaimState::kDeferred)) {
    return Status::Usage("--state must be failed or deferred, not '" + state + "'");
  }
  return spool.List(*s);
}

}  // namespace ncbocr
