// OCR in batches, with a record of where the time and memory went.
//
// A burst of claims is recognised on the pool (ocr.h) in batches of
// ocr.batch_size (env OCR_BATCH_SIZE). The spool stage commits each batch
// before recognising the next, so a crash loses at most one batch of work.
// `ncbocr ocr FILE...` streams instead: results are handed on in input order
// as soon as they are ready, and the batch size only bounds how far ahead of
// the oldest unfinished file the workers may run (so memory stays bounded
// and no worker idles at a batch boundary behind one slow receipt).
//
// OcrRunStats sums the per-file timings of ocr.json (decode, preprocess,
// recognition) and the process's peak resident memory, so `ncbocr ocr
// --stats` and the stage's log show receipts per minute, the share of time
// spent outside recognition and memory per worker.
#ifndef NCBOCR_OCR_BATCH_H_
#define NCBOCR_OCR_BATCH_H_

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/ocr.h"

namespace ncbocr {

struct OcrRunStats {
  int files = 0, pages = 0, failed = 0, workers = 0;
  double wall_ms = 0;                       // the whole run
  double decode_ms = 0, preprocess_ms = 0;  // summed over files / pages
  double ocr_ms = 0;                        // recognition, including retries
  double orientation_ms = 0, reread_ms = 0; // parts of ocr_ms (ocr.h)
  int orientation_checks = 0, orientation_rereads = 0, orientation_kept = 0;
  double file_ms = 0;                       // summed per-file totals (second readings included)
  std::map<std::string, double> step_ms;    // the engine's own steps (OcrPage::step_ms)
  // The second engine's readings (ocr.engine "tesseract+paddle"): how many
  // files it read, and the same sums for them. Not in decode_ms .. step_ms.
  struct Second {
    int files = 0;
    double decode_ms = 0, preprocess_ms = 0, ocr_ms = 0;
    std::map<std::string, double> step_ms;
  } second;
  long peak_rss_kb = 0;                     // of the process, at the end

  void Add(const OcrDocument& doc);
  // Time the workers spent on a file other than recognising it, as a share
  // of all their time on files (0..1).
  double OutsideRecognition() const;
  double ReceiptsPerMinute() const;
  nlohmann::json ToJson() const;
};

// The process's peak resident set size in KiB (getrusage).
long PeakRssKb();

using OcrResultFn = std::function<void(size_t index, Result<OcrDocument> result)>;

// Called from the worker threads around each file, in no particular order:
// started just before a worker begins file i (a failure skips the file,
// which then gets that status as its result), finished as soon as its
// result is ready (before done, which waits for the files before it). The
// OCR stage records and closes each claim's attempt here (stage.h).
struct OcrFileHooks {
  std::function<Status(size_t index)> started;
  std::function<void(size_t index)> finished;
};

// Recognises files on pool, calling done for each file in input order as
// soon as it and all before it are finished; no worker starts a file more
// than max(batch_size, workers) places ahead of the first one not yet
// handed on. done is called under a lock, one call at a time, from the
// worker threads.
OcrRunStats OcrFilesInBatches(OcrPool& pool, const std::vector<std::filesystem::path>& files,
                              const OcrConfig& config, const PreprocessOptions& options,
                              int batch_size, const OcrResultFn& done,
                              const OcrFileHooks* hooks = nullptr);

}  // namespace ncbocr

#endif  // NCBOCR_OCR_BATCH_H_
