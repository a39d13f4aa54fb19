// The ocr stage: fetched -> ocred.
//
// All claims waiting in fetched are recognised first on the worker pool (one
// Tesseract per worker), then ForEachClaim records each result: ocr.json in
// the claim directory and the move to ocred, or failed with the reason. The
// work is idempotent: a claim recognised twice after a crash just gets its
// ocr.json rewritten.
#include <chrono>
#include <map>

#include "ncbocr/ocr.h"

namespace ncbocr {

namespace {

constexpr int kMaxAttempts = 5;

std::string Describe(const Claim& c) {
  std::string s = "email " + (c.source.email_id.empty() ? std::string("?") : c.source.email_id);
  if (c.attachment) s += " attachment " + c.attachment->filename;
  return s;
}

}  // namespace

StageReport RunOcrStageWith(StageContext& ctx, const EngineFactory& factory) {
  return RunStage(ctx, [&]() -> StageReport {
    const Spool& spool = ctx.spool;
    // Which claims to recognise up front: those in fetched and the deferred
    // ones due back to it.
    std::vector<std::string> ids = spool.List(ClaimState::kFetched);
    for (auto& id : spool.DueDeferred(ClaimState::kFetched, ctx.clock.Now())) ids.push_back(id);
    std::vector<std::string> job_ids;
    std::vector<std::filesystem::path> files;
    for (const auto& id : ids) {
      Result<Claim> c = spool.Load(id);
      if (!c.ok() || !c->attachment) continue;
      job_ids.push_back(id);
      files.push_back(spool.ClaimDir(*c) / c->attachment->stored_name);
    }
    std::optional<OcrPool> pool;
    std::map<std::string, Result<OcrDocument>> done;
    PreprocessOptions pre = DefaultPreprocessOptions();
    if (!files.empty()) {
      int workers = std::min<int>(ResolveWorkers(ctx.config.ocr.workers), static_cast<int>(files.size()));
      Result<OcrPool> p = OcrPool::Create(workers, factory);
      if (!p.ok()) {
        ctx.log->error("cannot start OCR: {}", p.status().ToString());
        StageReport r;
        r.status = p.status();
        return r;
      }
      pool = std::move(p).value();
      auto t0 = std::chrono::steady_clock::now();
      std::vector<Result<OcrDocument>> results = OcrFiles(*pool, files, ctx.config.ocr, pre);
      for (size_t i = 0; i < job_ids.size(); ++i) done.emplace(job_ids[i], std::move(results[i]));
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ctx.log->info("recognised {} attachments on {} workers in {:.1f} s", files.size(), pool->size(), s);
    }

    return ForEachClaim(ctx, ClaimState::kFetched, kMaxAttempts, [&](Claim& c) -> Disposition {
      if (!c.attachment) {
        return Disposition::Park(ClaimState::kFailed, Describe(c) + ": the email has no receipt attachment",
                                 "no_attachment");
      }
      auto it = done.find(c.id);
      if (it == done.end()) {
        // Arrived after the batch started: recognise it now.
        if (!pool) {
          Result<OcrPool> p = OcrPool::Create(1, factory);
          if (!p.ok()) { Disposition d = Disposition::To(c.state); d.stop = p.status(); return d; }
          pool = std::move(p).value();
        }
        std::vector<Result<OcrDocument>> r =
            OcrFiles(*pool, {spool.ClaimDir(c) / c.attachment->stored_name}, ctx.config.ocr, pre);
        it = done.emplace(c.id, std::move(r[0])).first;
      }
      const Result<OcrDocument>& doc = it->second;
      if (!doc.ok()) {
        const Status& s = doc.status();
        ctx.log->warn("claim {}: OCR failed: {}", c.id, ErrorKindName(s.kind()));
        if (s.kind() == ErrorKind::kIo || s.kind() == ErrorKind::kTransient) {
          return Disposition::Retry(Backoff(c.attempts + 1), Describe(c) + ": " + s.message());
        }
        if (s.kind() == ErrorKind::kConfig) {
          Disposition d = Disposition::To(c.state);
          d.stop = s;
          return d;
        }
        return Disposition::Park(ClaimState::kFailed, Describe(c) + ": unreadable: " + s.message(), "unreadable");
      }
      Status w = spool.WriteClaimFile(c, "ocr.json", doc->ToJson().dump() + "\n");
      if (!w.ok()) return Disposition::Retry(Backoff(c.attempts + 1), "cannot write ocr.json: " + w.message());
      int words = 0;
      for (const auto& p : doc->pages) {
        for (const auto& l : p.lines) words += static_cast<int>(l.words.size());
      }
      double conf = doc->pages.empty() ? 0 : doc->pages[0].mean_confidence;
      c.notes["ocr"] = {{"pages", doc->pages.size()}, {"words", words},
                        {"mean_confidence", conf}, {"ms", static_cast<int>(doc->total_ms)}};
      ctx.log->info("claim {}: {} pages, {} words, {:.0f} ms", c.id, doc->pages.size(), words, doc->total_ms);
      return Disposition::To(ClaimState::kOcred);
    });
  });
}

StageReport RunOcrStage(StageContext& ctx) {
  const OcrConfig cfg = ctx.config.ocr;
  return RunOcrStageWith(ctx, [cfg] { return MakeTesseractEngine(cfg); });
}

}  // namespace ncbocr
