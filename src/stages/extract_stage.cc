// The extract stage: ocred -> ready (confident) or review (a clerk decides).
//
// First every claim waiting in ocred is segmented into receipts (segment.h):
// an attachment that holds several receipts keeps the first with its claim
// and gives each other one a claim of its own, committed into ocred before
// the first claim's page range is saved, so the same run extracts them all.
// The new claims' ids are the first claim's id and their page range
// ("...-p2-2"), so after a crash anywhere in between a second run finds
// what the first committed and creates nothing twice.
//
// Then each claim is extracted from its own pages only: reads ocr.json and
// email.json, extracts and routes (extract.h), writes extract.json and
// records the confidence and the review reasons in the manifest. A doubt of
// the segmentation sends the claim to review. Pure computation over files
// in the claim directory, so running it twice on a claim gives the same
// result.
#include <chrono>
#include <memory>

#include "ncbocr/audit.h"
#include "ncbocr/email.h"
#include "ncbocr/extract.h"
#include "ncbocr/extract_stage.h"
#include "ncbocr/google_archive.h"
#include "ncbocr/segment.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

constexpr int kMaxAttempts = 5;

Result<OcrDocument> ReadOcr(const Spool& spool, const Claim& c) {
  Result<std::string> raw = spool.ReadClaimFile(c, "ocr.json");
  if (!raw.ok()) return Status::Permanent("ocr.json missing or unreadable: " + raw.status().message());
  try {
    return OcrDocument::FromJson(nlohmann::json::parse(*raw));
  } catch (const nlohmann::json::exception& e) {
    return Status::Permanent(std::string("ocr.json is not JSON: ") + e.what());
  }
}

std::string ChildId(const Claim& parent, const PageRange& pages) {
  return parent.id + "-p" + std::to_string(pages.first) + "-" + std::to_string(pages.last);
}

// Commits the claim of one more receipt of parent's attachment into ocred
// (or duplicate, when another claim holds the same attachment and pages),
// unless it exists already.
Status CreateReceiptClaim(StageContext& ctx, const Claim& parent, const ReceiptSegment& seg, int receipts) {
  const Spool& spool = ctx.spool;
  const std::string id = ChildId(parent, seg.pages);
  if (spool.Exists(id)) return Status::Ok();
  Result<ClaimDraft> d = spool.NewDraft(id);
  if (!d.ok()) return d.status();
  auto fill = [&]() -> Status {
    Claim& c = d->claim;
    c.source = parent.source;
    c.attachment = parent.attachment;
    c.pages = seg.pages;
    c.attachment_receipts = receipts;
    c.split_from = parent.id;
    if (parent.notes.contains("ocr")) c.notes["ocr"] = parent.notes["ocr"];
    std::vector<std::string> files = {"ocr.json", "email.json"};
    if (parent.attachment) files.push_back(parent.attachment->stored_name);
    for (const std::string& name : files) {
      if (!spool.HasClaimFile(parent, name)) continue;
      Result<std::string> bytes = spool.ReadClaimFile(parent, name);
      if (!bytes.ok()) return bytes.status();
      Status s = spool.WriteDraftFile(*d, name, *bytes);
      if (!s.ok()) return s;
    }
    ClaimState state = ClaimState::kOcred;
    std::string reason;
    if (parent.attachment) {
      auto holder = spool.ClaimSha(ReceiptKey(parent.attachment->sha256, seg.pages), id);
      if (!holder.ok()) return holder.status();
      if (*holder && **holder != id) {
        state = ClaimState::kDuplicate;
        c.duplicate_of = **holder;
        reason = "same attachment and " + seg.pages.Describe() + " as claim " + **holder;
      }
    }
    if (reason.empty()) {
      reason = seg.pages.Describe() + " of claim " + parent.id + "'s attachment: a receipt of its own";
    }
    return spool.Commit(*d, state, "extract", reason);
  };
  Status s = fill();
  if (!s.ok()) spool.DiscardDraft(*d);
  return s;
}

// Segments c's document unless that is done; the claims of its other
// receipts are committed before c's own page range is saved.
Status EnsureSegmented(StageContext& ctx, Claim& c, const OcrDocument& doc) {
  if (c.attachment_receipts > 0 && c.pages) return Status::Ok();
  std::vector<ReceiptSegment> segs = SegmentDocument(doc, LocalDateOf(ctx.clock.Now()));
  const int n = static_cast<int>(segs.size());
  if (n > 1) {
    nlohmann::json receipts = nlohmann::json::array();
    receipts.push_back({{"pages", {segs[0].pages.first, segs[0].pages.last}}, {"claim", c.id}});
    for (int k = 1; k < n; ++k) {
      Status s = CreateReceiptClaim(ctx, c, segs[k], n);
      if (!s.ok()) return s;
      receipts.push_back({{"pages", {segs[k].pages.first, segs[k].pages.last}}, {"claim", ChildId(c, segs[k].pages)}});
    }
    c.notes["segment"] = {{"receipts", receipts}};
    if (c.attachment) {
      auto holder = ctx.spool.ClaimSha(ReceiptKey(c.attachment->sha256, segs[0].pages), c.id);
      if (!holder.ok()) return holder.status();
      if (*holder && **holder != c.id) c.duplicate_of = **holder;
    }
    std::string others;
    for (int k = 1; k < n; ++k) {
      others += std::string(k > 1 ? "; " : "") + segs[k].pages.Describe() + ": claim " +
                ChildId(c, segs[k].pages);
    }
    ctx.log->info("claim {}: the attachment holds {} receipts: {} stays with this claim; {}", c.id,
                  n, segs[0].pages.Describe(), others);
  }
  c.pages = segs[0].pages;
  c.attachment_receipts = n;
  return ctx.spool.SaveManifest(c);
}

// Segments every claim waiting for extraction (see the top of the file).
void SegmentWaitingClaims(StageContext& ctx) {
  std::vector<std::string> ids = ctx.spool.List(ClaimState::kOcred);
  for (auto& id : ctx.spool.DueDeferred(ClaimState::kOcred, ctx.clock.Now())) ids.push_back(id);
  for (const std::string& id : ids) {
    Result<Claim> c = ctx.spool.Load(id);
    if (!c.ok() || (c->attachment_receipts > 0 && c->pages)) continue;
    Result<OcrDocument> doc = ReadOcr(ctx.spool, *c);
    if (!doc.ok()) continue;  // the claim's own turn parks it
    Status s = EnsureSegmented(ctx, *c, *doc);
    if (!s.ok()) ctx.log->warn("claim {}: not segmented yet: {}", id, s.ToString());
  }
}

}  // namespace

StageReport RunExtractStage(StageContext& ctx) {
  return RunStage(ctx, [&]() -> StageReport {
    // With a Sheet configured, each claim's audit row is written as soon as it
    // is extracted, so the Sheet records it even while NCB is down. A Sheet
    // that cannot be reached does not hold extraction up: the archive stage
    // writes the row again later.
    std::unique_ptr<GoogleSinks> sinks;
    AuditLog audit(ctx.spool);
    if (!ctx.config.archive.sheets_spreadsheet_id.empty()) {
      auto opened = GoogleSinks::Open(ctx.config, ctx.spool, ctx.clock, ctx.log);
      if (opened.ok()) {
        sinks = std::move(*opened);
        audit.Add(sinks->audit());
      } else {
        ctx.log->warn("audit Sheet not available: {}", opened.status().ToString());
      }
    }
    SegmentWaitingClaims(ctx);
    return ForEachClaim(ctx, ClaimState::kOcred, kMaxAttempts, [&](Claim& c) -> Disposition {
      Result<OcrDocument> doc = ReadOcr(ctx.spool, c);
      if (!doc.ok()) {
        const bool missing = doc.status().message().rfind("ocr.json missing", 0) == 0;
        return Disposition::Park(ClaimState::kFailed, doc.status().message(), missing ? "no_ocr" : "bad_ocr");
      }
      Status seg = EnsureSegmented(ctx, c, *doc);
      if (!seg.ok()) {
        return Disposition::Retry(Backoff(c.attempts + 1), "cannot segment the attachment: " + seg.message());
      }
      if (!c.duplicate_of.empty()) {
        return Disposition::Park(ClaimState::kDuplicate,
                                 "same attachment and " + c.pages->Describe() + " as claim " + c.duplicate_of,
                                 "duplicate");
      }
      // Only this claim's pages: no field can come from another receipt.
      const OcrDocument own = PagesOf(*doc, *c.pages);
      std::vector<std::string> doubts;
      std::vector<ReceiptSegment> again = SegmentDocument(own, LocalDateOf(ctx.clock.Now()));
      for (const ReceiptSegment& s : again) {
        if (!s.doubt.empty()) doubts.push_back(s.doubt);
      }
      if (again.size() > 1 && doubts.empty()) {
        doubts.push_back(MoreThanOneReceiptReason(*c.pages, "its pages read as more than one receipt"));
      }

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
      Extraction x = ExtractClaim(own, email, ctx.config.extract, opt);
      if (!doubts.empty()) {
        x.decision = "review";
        x.reasons.insert(x.reasons.begin(), doubts.begin(), doubts.end());
      }
      nlohmann::json out = x.ToJson();
      out["claim_id"] = c.id;
      out["pages"] = {c.pages->first, c.pages->last};
      out["attachment_receipts"] = c.attachment_receipts;
      Status w = ctx.spool.WriteClaimFile(c, "extract.json", out.dump(2) + "\n");
      if (!w.ok()) return Disposition::Retry(Backoff(c.attempts + 1), "cannot write extract.json: " + w.message());
      c.confidence = x.confidence;
      c.review_reasons = x.reasons;
      ctx.log->info("claim {}: confidence {:.2f}, {}", c.id, x.confidence, x.decision);
      Status a = audit.RecordProgress(c, x.decision == "submit" ? "ready" : "review", ctx.clock.Now());
      if (!a.ok()) ctx.log->warn("claim {}: audit row not written yet: {}", c.id, a.ToString());
      if (x.decision == "submit") return Disposition::To(ClaimState::kReady);
      std::string reason;
      for (const auto& r : x.reasons) reason += (reason.empty() ? "" : "; ") + r;
      return Disposition::Park(ClaimState::kReview, reason, "review");
    });
  });
}

}  // namespace ncbocr
