// The ocr stage: fetched -> ocred.
//
// The claims waiting in fetched are recognised on the worker pool (one
// Tesseract per worker) in batches of ocr.batch_size, and ForEachClaim
// records each result: ocr.json in the claim directory and the move to
// ocred, or failed with the reason. The
// work is idempotent: a claim recognised twice after a crash just gets its
// ocr.json rewritten.
#include <algorithm>
#include <chrono>
#include <map>

#include "ncbocr/document.h"
#include "ncbocr/fetch_stage.h"
#include "ncbocr/gpu.h"
#include "ncbocr/extract.h"
#include "ncbocr/ocr_paddle.h"
#include "ncbocr/ocr_stage.h"
#include "ncbocr/ocr_batch.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

std::string Describe(const Claim& c) {
  std::string s = "email " + (c.source.email_id.empty() ? std::string("?") : c.source.email_id);
  if (c.attachment) s += " attachment " + c.attachment->filename;
  return s;
}

// For log lines: the email by EmailForLog and the attachment by part
// number and stored name, never by the sender's file name (which may hold a
// name or an IC number). One line, however odd the id.
std::string DescribeForLog(const Claim& c) {
  std::string s = "email " + EmailForLog(c.source.kind, c.source.email_id);
  if (c.attachment) {
    s += " part " + std::to_string(c.source.part_index + 1) + "/" +
         std::to_string(std::max(1, c.source.part_count)) + " (" + c.attachment->stored_name + ")";
  }
  return ReplaceControlChars(std::move(s), '?');
}

// The receipts of one email that this run takes up together may hold at
// most ocr.max_email_pixels (document.h counts them from the headers):
// claims are admitted in part order while the sum fits, and the others are
// refused with the reason. Claims of an email taken up in different runs (a
// retry) are counted apart. Returns claim id -> why it was refused.
std::map<std::string, std::string> OverEmailBudget(const StageContext& ctx,
                                                   const std::vector<std::string>& ids,
                                                   const std::vector<std::filesystem::path>& files,
                                                   const std::vector<Claim>& claims) {
  std::map<std::string, std::string> refused;
  std::map<std::string, long long> used;  // email -> pixels admitted
  const long long budget = ctx.config.ocr.max_email_pixels;
  for (size_t i = 0; i < ids.size(); ++i) {
    const Claim& c = claims[i];
    if (c.source.part_count < 2) continue;  // one receipt: max_claim_pixels bounds it
    Result<DocumentReader> doc = DocumentReader::Open(files[i], ctx.config.ocr);
    if (!doc.ok()) continue;  // recognition reports it
    const std::string email = c.source.kind + ":" + c.source.email_id;
    long long& sum = used[email];
    if (sum + doc->total_pixels() > budget) {
      refused[ids[i]] = "the email's receipts hold more than " + std::to_string(budget) +
                        " pixels together (ocr.max_email_pixels): this one (" +
                        std::to_string(doc->total_pixels()) + " pixels) would bring them to " +
                        std::to_string(sum + doc->total_pixels());
      continue;
    }
    sum += doc->total_pixels();
  }
  return refused;
}

}  // namespace

StageReport RunOcrStageWith(StageContext& ctx, const EngineFactory& factory) {
  // OCR is where the CPU goes: runs on several hosts (or several pods of a
  // Kubernetes Job) share the fetched queue, claim by claim.
  ctx.shared_queue = true;
  return RunStage(ctx, [&]() -> StageReport {
    const Spool& spool = ctx.spool;
    // Which claims to recognise up front: those in fetched and the deferred
    // ones due back to it.
    std::vector<std::string> ids = spool.List(ClaimState::kFetched);
    for (auto& id : spool.DueDeferred(ClaimState::kFetched, ctx.clock.Now())) ids.push_back(id);
    const int max_attempts = ctx.config.ocr.max_attempts;
    std::vector<std::string> job_ids;
    std::vector<std::filesystem::path> files;
    std::vector<Claim> job_claims;
    for (const auto& id : ids) {
      Result<Claim> c = spool.Load(id);
      if (!c.ok() || !c->attachment) continue;
      // A claim whose runs died on it max_attempts times is not worked on
      // again: ForEachClaim parks it.
      if (HasInterruptedAttempt(ctx, *c) && c->attempts + 1 >= max_attempts) continue;
      job_ids.push_back(id);
      files.push_back(spool.ClaimDir(*c) / c->attachment->stored_name);
      job_claims.push_back(*c);
    }
    const std::map<std::string, std::string> over_budget =
        OverEmailBudget(ctx, job_ids, files, job_claims);
    if (!over_budget.empty()) {
      std::vector<std::string> keep_ids;
      std::vector<std::filesystem::path> keep_files;
      for (size_t i = 0; i < job_ids.size(); ++i) {
        if (over_budget.count(job_ids[i])) continue;
        keep_ids.push_back(job_ids[i]);
        keep_files.push_back(files[i]);
      }
      job_ids = std::move(keep_ids);
      files = std::move(keep_files);
    }
    std::optional<OcrPool> pool;
    std::map<std::string, Result<OcrDocument>> done;
    PreprocessOptions pre = DefaultPreprocessOptions();
    if (!files.empty()) {
      Result<bool> gpu = ResolveUseGpu(ctx.config.ocr.use_gpu, ctx.log);
      if (!gpu.ok()) {
        ctx.log->error("cannot start OCR: {}", gpu.status().ToString());
        StageReport r;
        r.status = gpu.status();
        return r;
      }
      pre.use_gpu = *gpu;
      if (!ctx.config.ocr.engine_note.empty()) ctx.log->warn("{}", ctx.config.ocr.engine_note);
      int workers = std::min<int>(ResolveWorkers(ctx.config.ocr.workers), static_cast<int>(files.size()));
      Result<OcrPool> p = OcrPool::Create(workers, factory);
      if (!p.ok()) {
        ctx.log->error("cannot start OCR: {}", p.status().ToString());
        StageReport r;
        r.status = p.status();
        return r;
      }
      pool = std::move(p).value();
    }
    // Claims are recognised a batch at a time, when ForEachClaim reaches the
    // first claim of a batch, so each batch is committed before the next is
    // recognised: a crash or a stop loses at most one batch.
    std::map<std::string, size_t> job_index;
    for (size_t i = 0; i < job_ids.size(); ++i) job_index.emplace(job_ids[i], i);
    std::vector<bool> started(job_ids.size(), false);
    auto recognise_batch_from = [&](size_t first) {
      std::vector<size_t> batch;
      for (size_t i = first; i < job_ids.size() && static_cast<int>(batch.size()) < ctx.config.ocr.batch_size; ++i) {
        if (started[i]) continue;
        // A claim another run has taken is left to it; this run takes the
        // work lock of each claim it recognises now, for ForEachClaim (which
        // already holds that of the first: the claim it is at).
        if (ctx.shared_queue && i != first && !ctx.work.count(job_ids[i])) {
          Result<StageLock> w = spool.TryLockClaimWork(ctx.stage, job_ids[i]);
          std::error_code ec;
          if (!w.ok() || !w->held() ||
              !std::filesystem::is_directory(spool.StateDir(ClaimState::kFetched) / job_ids[i], ec)) {
            started[i] = true;  // ForEachClaim sees to it (or skips it)
            continue;
          }
          ctx.work.emplace(job_ids[i], std::move(*w));
        }
        batch.push_back(i);
      }
      std::vector<std::filesystem::path> batch_files;
      for (size_t i : batch) {
        started[i] = true;
        batch_files.push_back(files[i]);
      }
      // Each claim's attempt is on record while a worker is on it, and only
      // then: a run killed on one receipt charges that one and the others
      // being read with it, not the batch's finished ones.
      OcrFileHooks hooks;
      hooks.started = [&](size_t k) -> Status {
        Result<Claim> c = spool.LoadIn(ClaimState::kFetched, job_ids[batch[k]]);
        if (!c.ok()) return c.status();
        if (HasInterruptedAttempt(ctx, *c)) {
          ctx.log->warn(
              "claim {}: an ocr run died on it before (killed, timed out or out of memory); "
              "attempt {} of {}",
              c->id, c->attempts + 2, max_attempts);
        }
        Result<bool> begun = BeginAttempt(ctx, *c, max_attempts);
        if (!begun.ok()) return begun.status();
        if (!*begun) return Status::Transient("not begun: attempts used up");
        return Status::Ok();
      };
      hooks.finished = [&](size_t k) {
        Result<Claim> c = spool.LoadIn(ClaimState::kFetched, job_ids[batch[k]]);
        if (c.ok()) EndAttempt(ctx, *c);
      };
      OcrRunStats stats = OcrFilesInBatches(
          *pool, batch_files, ctx.config.ocr, pre, ctx.config.ocr.batch_size,
          [&](size_t k, Result<OcrDocument> r) {
            done.insert_or_assign(job_ids[batch[k]], std::move(r));
          },
          &hooks);
      ctx.log->info("recognised {} attachments on {} workers in {:.1f} s ({:.0f}% outside recognition, "
                    "peak memory {:.0f} MB)",
                    batch_files.size(), pool->size(), stats.wall_ms / 1000.0, stats.OutsideRecognition() * 100,
                    stats.peak_rss_kb / 1024.0);
    };

    return ForEachClaim(ctx, ClaimState::kFetched, max_attempts, [&](Claim& c) -> Disposition {
      if (!c.attachment) {
        return Disposition::Park(ClaimState::kFailed, Describe(c) + ": the email has no receipt attachment",
                                 "no_attachment");
      }
      if (auto o = over_budget.find(c.id); o != over_budget.end()) {
        ctx.log->warn("claim {}: {}: refused: over ocr.max_email_pixels", c.id, DescribeForLog(c));
        return Disposition::Park(ClaimState::kFailed, Describe(c) + ": refused: " + o->second,
                                 "over_budget");
      }
      auto it = done.find(c.id);
      if (auto j = job_index.find(c.id); it == done.end() && j != job_index.end() && !started[j->second]) {
        recognise_batch_from(j->second);
        it = done.find(c.id);
      }
      if (it == done.end()) {
        // Arrived after the batch started: recognise it now.
        if (!pool) {
          Result<OcrPool> p = OcrPool::Create(1, factory);
          if (!p.ok()) {
            Disposition d = Disposition::To(c.state);
            d.stop = p.status();
            return d;
          }
          pool = std::move(p).value();
        }
        std::vector<Result<OcrDocument>> r =
            OcrFiles(*pool, {spool.ClaimDir(c) / c.attachment->stored_name}, ctx.config.ocr, pre);
        it = done.emplace(c.id, std::move(r[0])).first;
      }
      const Result<OcrDocument>& doc = it->second;
      if (!doc.ok()) {
        const Status& s = doc.status();
        const std::string why = ReplaceControlChars(s.message().substr(0, 300), ' ');
        ctx.log->warn("claim {}: {}: OCR failed ({}): {}", c.id, DescribeForLog(c),
                      ErrorKindName(s.kind()), why);
        if (s.kind() == ErrorKind::kIo || s.kind() == ErrorKind::kTransient) {
          return Disposition::Retry(Backoff(c.attempts + 1), Describe(c) + ": " + s.message());
        }
        if (s.kind() == ErrorKind::kConfig) {
          Disposition d = Disposition::To(c.state);
          d.stop = s;
          return d;
        }
        if (IsOcrTimeout(s)) {
          return Disposition::Park(ClaimState::kFailed, Describe(c) + ": " + s.message(),
                                   "timed_out");
        }
        return Disposition::Park(ClaimState::kFailed, Describe(c) + ": unreadable: " + s.message(), "unreadable");
      }
      Status w = spool.WriteClaimFile(c, "ocr.json", doc->ToJson().dump() + "\n");
      if (!w.ok())
        return Disposition::Retry(Backoff(c.attempts + 1), "cannot write ocr.json: " + w.message());
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
  return RunOcrStageWith(ctx, ConfiguredEngineFactory(ctx.config));
}

}  // namespace ncbocr
