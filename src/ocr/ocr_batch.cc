#include "ncbocr/ocr_batch.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace ncbocr {

namespace {

double Round1(double v) { return std::round(v * 10.0) / 10.0; }

nlohmann::json StepsJson(const std::map<std::string, double>& steps) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [step, ms] : steps) j[step] = Round1(ms);
  return j;
}

}  // namespace

void OcrRunStats::Add(const OcrDocument& doc) {
  files++;
  decode_ms += doc.decode_ms;
  file_ms += doc.total_ms;
  for (const auto& p : doc.pages) {
    pages++;
    preprocess_ms += p.preprocess_ms;
    ocr_ms += p.ocr_ms;
    orientation_ms += p.orientation_ms;
    reread_ms += p.reread_ms;
    orientation_checks += p.orientation_check.done;
    orientation_rereads += p.orientation_check.reread;
    orientation_kept += p.orientation_check.kept;
    for (const auto& [step, ms] : p.step_ms) step_ms[step] += ms;
  }
  for (const OcrDocument& s : doc.second) {
    second.files++;
    second.decode_ms += s.decode_ms;
    for (const auto& p : s.pages) {
      second.preprocess_ms += p.preprocess_ms;
      second.ocr_ms += p.ocr_ms;
      for (const auto& [step, ms] : p.step_ms) second.step_ms[step] += ms;
    }
  }
}

double OcrRunStats::OutsideRecognition() const {
  return file_ms > 0 ? std::clamp((file_ms - ocr_ms - second.ocr_ms) / file_ms, 0.0, 1.0) : 0;
}

double OcrRunStats::ReceiptsPerMinute() const {
  return wall_ms > 0 ? (files + failed) * 60000.0 / wall_ms : 0;
}

nlohmann::json OcrRunStats::ToJson() const {
  const double mb = peak_rss_kb / 1024.0;
  const double second_all = second.decode_ms + second.preprocess_ms + second.ocr_ms;
  nlohmann::json j = {{"files", files},
          {"failed", failed},
          {"pages", pages},
          {"workers", workers},
          {"wall_s", Round1(wall_ms / 100.0) / 10.0},
          {"receipts_per_min", Round1(ReceiptsPerMinute())},
          {"ms", {{"decode", Round1(decode_ms)},
                  {"preprocess", Round1(preprocess_ms)},
                  {"recognise", Round1(ocr_ms)},
                  {"other", Round1(std::max(0.0, file_ms - decode_ms - preprocess_ms - ocr_ms - second_all))},
                  {"orientation", Round1(orientation_ms)},
                  {"reread", Round1(reread_ms)},
                  {"per_file", Round1(files ? file_ms / files : 0)},
                  {"steps", StepsJson(step_ms)}}},
          {"orientation", {{"checked", orientation_checks},
                           {"read_turned", orientation_rereads},
                           {"kept", orientation_kept}}},
          {"outside_recognition", std::round(OutsideRecognition() * 1000.0) / 1000.0},
          {"peak_rss_mb", Round1(mb)},
          {"peak_rss_mb_per_worker", Round1(workers ? mb / workers : mb)}};
  if (second.files > 0) {
    j["second"] = {{"files", second.files},
                   {"ms", {{"decode", Round1(second.decode_ms)},
                           {"preprocess", Round1(second.preprocess_ms)},
                           {"recognise", Round1(second.ocr_ms)},
                           {"steps", StepsJson(second.step_ms)}}}};
  }
  return j;
}

long PeakRssKb() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return u.ru_maxrss;  // KiB on Linux
}

OcrRunStats OcrFilesInBatches(OcrPool& pool, const std::vector<std::filesystem::path>& files,
                              const OcrConfig& config, const PreprocessOptions& options,
                              int batch_size, const OcrResultFn& done, const OcrFileHooks* hooks) {
  OcrRunStats stats;
  stats.workers = pool.size();
  const auto t0 = std::chrono::steady_clock::now();
  std::mutex mu;
  std::condition_variable emitted;
  std::vector<std::optional<Result<OcrDocument>>> ready(files.size());
  size_t next = 0;  // the first file not yet handed to done
  const size_t window = static_cast<size_t>(std::max({batch_size, pool.size(), 1}));
  pool.Run(files.size(), [&](OcrEngine& engine, size_t i) {
    {
      // Start file i only once it is within a window of the first file not
      // yet handed on: bounds what waits in memory behind a slow receipt.
      // Files are taken in order, so file `next` is always being worked on.
      std::unique_lock<std::mutex> lock(mu);
      emitted.wait(lock, [&] { return i < next + window; });
    }
    Result<OcrDocument> r = Status::Internal("not run");
    Status start = hooks && hooks->started ? hooks->started(i) : Status::Ok();
    if (!start.ok()) {
      r = start;
    } else {
      try {
        r = OcrFile(engine, files[i], config, options);
      } catch (const std::exception& e) {
        // OpenCV or poppler may throw on hostile input; one file never stops the rest.
        r = Status::Permanent(files[i].string() + ": " + e.what());
      }
      if (hooks && hooks->finished) hooks->finished(i);
    }
    std::lock_guard<std::mutex> lock(mu);
    ready[i] = std::move(r);
    while (next < files.size() && ready[next]) {
      Result<OcrDocument> out = std::move(*ready[next]);
      ready[next].reset();
      if (out.ok()) stats.Add(*out);
      else stats.failed++;
      done(next, std::move(out));
      next++;
    }
    emitted.notify_all();
  });
  stats.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  stats.peak_rss_kb = PeakRssKb();
  return stats;
}

}  // namespace ncbocr
