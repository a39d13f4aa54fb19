#include "ncbocr/submit.h"

#include <algorithm>

#include "ncbocr/ncb_http.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

Disposition Handle(StageContext& ctx, NcbClient& client, Claim& c) {
  auto values = LoadClaimValues(ctx.spool, c);
  if (!values.ok()) return Disposition::Park(ClaimState::kReview, values.status().message(), "review");
  auto body = BuildNcbBody(*values, ctx.config.ncb, ctx.config.extract, ctx.clock.Now());
  if (!body.ok()) {
    return Disposition::Park(ClaimState::kReview, "cannot submit: " + body.status().message(), "review");
  }
  // Kept beside the claim: what exactly was sent is part of the audit trail.
  Status saved = ctx.spool.WriteClaimFile(c, "ncb-request.json", *body);
  if (!saved.ok()) return Disposition::Retry(Backoff(c.attempts + 1), saved.message());

  NcbResponse r = client.Submit(*body, IdempotencyKey(c));
  ctx.log->info("claim {}: NCB answered {} (request {})", c.id, r.http_status, r.request_id);
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

}  // namespace ncbocr
