// The extract stage: ocred -> ready (confident) or review (a clerk decides).
//
// Reads ocr.json and email.json, extracts and routes (extract.h), writes
// extract.json and records the confidence and the review reasons in the
// manifest. Pure computation over files in the claim directory, so running
// it twice on a claim gives the same result.
#include <chrono>
#include <memory>

#include "ncbocr/email.h"
#include "ncbocr/extract.h"
#include "ncbocr/google_archive.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

constexpr int kMaxAttempts = 5;

}  // namespace

StageReport RunExtractStage(StageContext& ctx) {
  return RunStage(ctx, [&]() -> StageReport {
    // With a Sheet configured, each claim's audit row is written as soon as it
    // is extracted, so the Sheet records it even while NCB is down. A Sheet
    // that cannot be reached does not hold extraction up: the archive stage
    // writes the row again later.
    std::unique_ptr<GoogleSinks> sinks;
    if (!ctx.config.archive.sheets_spreadsheet_id.empty()) {
      auto opened = GoogleSinks::Open(ctx.config, ctx.spool, ctx.clock, ctx.log);
      if (opened.ok()) {
        sinks = std::move(*opened);
      } else {
        ctx.log->warn("audit Sheet not available: {}", opened.status().ToString());
      }
    }
    return ForEachClaim(ctx, ClaimState::kOcred, kMaxAttempts, [&](Claim& c) -> Disposition {
      Result<std::string> raw = ctx.spool.ReadClaimFile(c, "ocr.json");
      if (!raw.ok()) {
        return Disposition::Park(ClaimState::kFailed, "ocr.json missing or unreadable: " + raw.status().message(),
                                 "no_ocr");
      }
      Result<OcrDocument> doc = Status::Internal("unset");
      try {
        doc = OcrDocument::FromJson(nlohmann::json::parse(*raw));
      } catch (const nlohmann::json::exception& e) {
        doc = Status::Permanent(std::string("ocr.json is not JSON: ") + e.what());
      }
      if (!doc.ok()) return Disposition::Park(ClaimState::kFailed, doc.status().message(), "bad_ocr");

      std::optional<EmailInfo> email;
      if (ctx.spool.HasClaimFile(c, "email.json")) {
        Result<std::string> ej = ctx.spool.ReadClaimFile(c, "email.json");
        if (ej.ok()) {
          try {
            Result<EmailInfo> e = EmailInfo::FromJson(nlohmann::json::parse(*ej));
            if (e.ok()) email = std::move(e).value();
          } catch (const nlohmann::json::exception&) {
          }
        }
        if (!email) ctx.log->warn("claim {}: email.json unreadable; member fields missing", c.id);
      }

      ExtractOptions opt;
      opt.today = LocalDateOf(ctx.clock.Now());
      opt.claim_id = c.id;
      Extraction x = ExtractClaim(*doc, email, ctx.config.extract, opt);
      nlohmann::json out = x.ToJson();
      out["claim_id"] = c.id;
      Status w = ctx.spool.WriteClaimFile(c, "extract.json", out.dump(2) + "\n");
      if (!w.ok()) return Disposition::Retry(Backoff(c.attempts + 1), "cannot write extract.json: " + w.message());
      c.confidence = x.confidence;
      c.review_reasons = x.reasons;
      ctx.log->info("claim {}: confidence {:.2f}, {}", c.id, x.confidence, x.decision);
      if (sinks) {
        Status a = sinks->RecordAudit(ctx.spool, c, x.decision == "submit" ? "ready" : "review", "",
                                      ctx.clock.Now());
        if (!a.ok()) ctx.log->warn("claim {}: audit row not written yet: {}", c.id, a.ToString());
      }
      if (x.decision == "submit") return Disposition::To(ClaimState::kReady);
      std::string reason;
      for (const auto& r : x.reasons) reason += (reason.empty() ? "" : "; ") + r;
      return Disposition::Park(ClaimState::kReview, reason, "review");
    });
  });
}

}  // namespace ncbocr
