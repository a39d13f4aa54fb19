#include "ncbocr/submit_stage.h"

#include <algorithm>

#include "ncbocr/ncb_http.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

Disposition Handle(StageContext& ctx, NcbClient& client, Claim& c) {
  auto values = ctx.spool.LoadClaimValues(c);
  if (!values.ok()) return Disposition::Park(ClaimState::kReview, values.status().message(), "review");
  auto body = BuildNcbBody(*values, ctx.config.ncb, ctx.config.extract, ctx.clock.Now());
  if (!body.ok()) {
    return Disposition::Park(ClaimState::kReview, "cannot submit: " + body.status().message(), "review");
  }
  // Kept beside the claim: what exactly was sent is part of the audit trail.
  Status saved = ctx.spool.WriteClaimFile(c, "ncb-request.json", *body);
  if (!saved.ok()) return Disposition::Retry(Backoff(c.attempts + 1), saved.message());

  NcbResponse r = client.Submit(*body, IdempotencyKey(c));
  if (r.http_status == 0) {
    ctx.log->warn("claim {}: NCB unreachable ({}; request {}): deferred", c.id, r.message, r.request_id);
  } else if (r.http_status >= 500) {
    ctx.log->warn("claim {}: NCB answered HTTP {} (request {}): deferred", c.id, r.http_status, r.request_id);
  } else {
    ctx.log->info("claim {}: NCB answered {} (request {})", c.id, r.http_status, r.request_id);
  }
  switch (r.http_status) {
    case 200:
    case 201:
    case 409:
      if (r.reference.empty() && r.http_status != 409) {
        return Disposition::Retry(Backoff(c.attempts + 1), "NCB accepted the claim but gave no reference");
      }
      c.ncb_reference = r.reference;
      c.submitted_at = IsoUtc(ctx.clock.Now());
      return Disposition::To(ClaimState::kSubmitted, r.http_status == 409 ? "already-in-ncb" : "submitted");
    case 400:
    case 422:
      return Disposition::Park(ClaimState::kReview,
                               "NCB refused the claim (" + r.error_code + "): " + r.message, "refused");
    case 401:
    case 403: {
      Disposition d;
      d.next = c.state;
      // Name where the key came from (LoadNcbApiKey prefers the file).
      std::string where = ctx.config.ncb.api_key_file.empty()
                              ? "NCB_API_KEY (or ncb.api_key)"
                              : "the key in ncb.api_key_file (" + ctx.config.ncb.api_key_file + ")";
      d.stop = Status::Credentials("NCB refused the API key (HTTP " + std::to_string(r.http_status) +
                                   "); check " + where + "; every claim stays queued");
      return d;
    }
    case 429:
      return Disposition::Retry(std::max<std::chrono::seconds>(std::chrono::seconds(r.retry_after),
                                                               Backoff(c.attempts + 1, std::chrono::seconds(30))),
                                "NCB rate limit");
    default:
      break;
  }
  std::string why = r.http_status == 0 ? "NCB unreachable: " + r.message
                                       : "NCB answered HTTP " + std::to_string(r.http_status);
  return Disposition::Retry(Backoff(c.attempts + 1), why);
}

}  // namespace

StageReport SubmitClaims(StageContext& ctx, NcbClient& client) {
  return ForEachClaim(ctx, ClaimState::kReady, ctx.config.ncb.max_attempts,
                      [&](Claim& c) { return Handle(ctx, client, c); });
}

StageReport RunSubmitStage(StageContext& ctx) {
  auto client = MakeNcbClient(ctx.config.ncb, ctx.log);
  if (!client.ok()) {
    StageReport r;
    r.status = client.status();
    ctx.log->error("{}", client.status().message());
    return r;
  }
  // Records when NCB stopped answering, and alerts past ncb.alert_after.
  NcbOutageWatch watched(**client, ctx.spool, std::chrono::seconds(ctx.config.ncb.alert_after), ctx.clock,
                         ctx.log);
  return RunStage(ctx, [&] { return SubmitClaims(ctx, watched); });
}

bool IsNcbDown(const NcbResponse& r) { return r.http_status == 0 || r.http_status >= 500; }

namespace {

constexpr const char* kOutageRecord = "ncb-outage";  // stages/ncb-outage.json
constexpr size_t kMaxOutageError = 500;            // a transport error, kept bounded

nlohmann::json ToJson(const NcbOutage& o) {
  return {{"down_since", o.down_since}, {"last_failure_at", o.last_failure_at}, {"failures", o.failures},
          {"alerted", o.alerted},       {"last_error", o.last_error},           {"recovered_at", o.recovered_at}};
}

}  // namespace

std::optional<NcbOutage> ReadNcbOutage(const Spool& spool) {
  auto j = spool.ReadStageRun(kOutageRecord);
  if (!j || !j->is_object()) return std::nullopt;
  NcbOutage o;
  o.down_since = j->value("down_since", "");
  o.last_failure_at = j->value("last_failure_at", "");
  o.failures = j->value("failures", 0);
  o.alerted = j->value("alerted", false);
  o.last_error = j->value("last_error", "");
  o.recovered_at = j->value("recovered_at", "");
  return o;
}

NcbOutageWatch::NcbOutageWatch(NcbClient& inner, const Spool& spool, std::chrono::seconds alert_after,
                               const Clock& clock, Logger log)
    : inner_(inner), spool_(spool), alert_after_(alert_after), clock_(clock),
      log_(log ? std::move(log) : NullLogger()) {
  state_ = ReadNcbOutage(spool_).value_or(NcbOutage{});
}

NcbResponse NcbOutageWatch::Submit(const std::string& body, const std::string& idempotency_key) {
  NcbResponse r = inner_.Submit(body, idempotency_key);
  Note(r);
  return r;
}

void NcbOutageWatch::Save() {
  Status s = spool_.WriteStageRun(kOutageRecord, ToJson(state_));
  if (!s.ok()) log_->warn("cannot record the NCB outage state: {}", s.ToString());
}

OutageEvent NcbOutageWatch::Note(const NcbResponse& r) {
  TimePoint now = clock_.Now();
  if (!IsNcbDown(r)) {
    if (state_.down_since.empty()) return OutageEvent::kNone;
    auto since = ParseIso(state_.down_since);
    long long secs = since ? std::chrono::duration_cast<std::chrono::seconds>(now - *since).count() : 0;
    bool was_alerted = state_.alerted;
    if (was_alerted) log_->error("NCB answers again after an outage of {} s since {}", secs, state_.down_since);
    state_ = NcbOutage{};
    state_.recovered_at = IsoUtc(now);
    Save();
    return was_alerted ? OutageEvent::kRecovered : OutageEvent::kNone;
  }
  OutageEvent ev = OutageEvent::kNone;
  if (state_.down_since.empty()) {
    state_.down_since = IsoUtc(now);
    state_.alerted = false;
    state_.failures = 0;
    ev = OutageEvent::kStarted;
  }
  state_.failures++;
  state_.last_failure_at = IsoUtc(now);
  state_.last_error = r.http_status == 0 ? r.message.substr(0, kMaxOutageError) : "HTTP " + std::to_string(r.http_status);
  auto since = ParseIso(state_.down_since).value_or(now);
  if (!state_.alerted && now - since >= alert_after_) {
    state_.alerted = true;
    ev = OutageEvent::kAlert;
    log_->error("ALERT: NCB has not answered since {} ({} failed calls, over ncb.alert_after={} s); last error: {}",
                state_.down_since, state_.failures, alert_after_.count(), state_.last_error);
  }
  Save();
  return ev;
}

}  // namespace ncbocr
