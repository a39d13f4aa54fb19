// ncbocr ocr: recognise receipts (see man/ncbocr-ocr.1).
//
// Without files: the spool stage (fetched -> ocred). With files: prints each
// file's text, or with --json one JSON object per file (one per line), and
// touches no spool. --engine, --preprocess, --psm and --lang override the configured
// OCR settings, so preprocessing choices can be measured from the shell;
// --stats says where the time and memory went (ocr_batch.h).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "ncbocr/progress.h"
#include "ncbocr/gpu.h"
#include "ncbocr/ocr_stage.h"
#include "ncbocr/ocr_batch.h"
#include "ncbocr/extract.h"
#include "ncbocr/ocr_paddle.h"

namespace ncbocr::cli {

namespace {

struct OcrOptions {
  std::vector<std::string> files;
  bool json = false;
  std::string preprocess;
  int psm = -1;
  std::string lang;
  int workers = -1;
  bool stats = false;
  std::string engine;
};

// Applies the tuning flags shared by ocr, extract and eval.
Status ApplyOcrFlags(const OcrOptions& o, Config& config, PreprocessOptions& pre) {
  if (!o.preprocess.empty()) {
    Result<PreprocessOptions> p = ParsePreprocessSpec(o.preprocess);
    if (!p.ok()) return p.status();
    pre = *p;
  }
  if (o.psm >= 0) config.ocr.psm = o.psm;
  if (!o.engine.empty()) {
    config.ocr.engine = o.engine;
    config.ocr.engine_note = ResolveAutoEngine(config.ocr);
  }
  WarnEngineNote(config);
  if (o.workers >= 0) config.ocr.workers = o.workers;
  if (!o.lang.empty()) {
    config.ocr.languages.clear();
    size_t start = 0;
    while (start <= o.lang.size()) {
      size_t plus = o.lang.find('+', start);
      std::string l = o.lang.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
      if (!l.empty()) config.ocr.languages.push_back(l);
      if (plus == std::string::npos) break;
      start = plus + 1;
    }
  }
  return Status::Ok();
}

int OcrFilesCommand(const GlobalOptions& g, const OcrOptions& o) {
  Result<Config> config = LoadConfigFor(g);
  if (!config.ok()) return Fail(config.status());
  PreprocessOptions pre = DefaultPreprocessOptions();
  Status s = ApplyOcrFlags(o, *config, pre);
  if (!s.ok()) return Fail(s);
  Result<bool> gpu = ResolveUseGpu(config->ocr.use_gpu, MakeLogger(config->log, "ocr"));
  if (!gpu.ok()) return Fail(gpu.status());
  pre.use_gpu = *gpu;
  const OcrConfig cfg = config->ocr;
  int workers = std::min<int>(ResolveWorkers(cfg.workers), static_cast<int>(o.files.size()));
  Result<OcrPool> pool = OcrPool::Create(workers, ConfiguredEngineFactory(*config));
  if (!pool.ok()) return Fail(pool.status());
  std::vector<std::filesystem::path> paths(o.files.begin(), o.files.end());
  int rc = kExitOk;
  // Progress only while the results go elsewhere (ncbocr ocr *.jpg --json >
  // out): on a terminal they would be drawn over.
  Progress bar("ocr", paths.size(), Progress::Interactive(g.quiet) && ::isatty(STDOUT_FILENO) != 1);
  OcrRunStats stats = OcrFilesInBatches(*pool, paths, cfg, pre, cfg.batch_size,
                                        [&](size_t i, Result<OcrDocument> r) {
    bar.Tick();
    if (!r.ok()) {
      if (rc == kExitOk) rc = r.status().exit_code();
      std::fprintf(stderr, "ncbocr: %s\n", r.status().message().c_str());
      if (o.json) {
        nlohmann::json err{{"file", o.files[i]}, {"error", r.status().ToString()}};
        std::cout << err.dump() << "\n";
      }
    } else if (o.json) {
      std::cout << r->ToJson().dump() << "\n";
    } else {
      if (o.files.size() > 1) std::cout << "==> " << o.files[i] << " <==\n";
      std::cout << r->Text();
    }
    std::cout.flush();  // each result as soon as it is ready
  });
  if (o.stats) {
    nlohmann::json j = stats.ToJson();
    j["preprocess_on"] = pre.use_gpu ? "gpu" : "cpu";
    std::fprintf(stderr, "%s\n", j.dump().c_str());
  }
  return rc;
}

}  // namespace

void RegisterOcr(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("ocr", "recognise receipts: the spool stage, or the given files");
  static OcrOptions o;
  cmd->add_option("files", o.files, "receipt files (JPEG, PNG, TIFF, PDF); none: run the spool stage");
  cmd->add_flag("--json", o.json, "one JSON object per file: pages, lines, words, confidences, boxes, timings");
  cmd->add_option("--preprocess", o.preprocess, "preprocessing spec, e.g. height=30,deskew=1,rotate=1");
  cmd->add_option("--psm", o.psm, "Tesseract page segmentation mode (overrides ocr.psm)");
  cmd->add_option("--lang", o.lang, "Tesseract languages, e.g. eng+msa (overrides ocr.languages)");
  cmd->add_option("--engine", o.engine, "recogniser: tesseract, paddle, tesseract+paddle or auto (overrides ocr.engine)")
      ->check(CLI::IsMember({"tesseract", "paddle", "tesseract+paddle", "auto"}));
  cmd->add_option("--workers", o.workers, "OCR worker threads (0: one per core)");
  cmd->add_flag("--stats", o.stats,
                "print to stderr one JSON line: receipts per minute, time per step, peak memory");
  cmd->callback([&st] {
    st.action = [&st] {
      if (o.files.empty()) {
        return RunStageCommand(st.opts, "ocr", [](StageContext& ctx) { return RunOcrStage(ctx); });
      }
      return OcrFilesCommand(st.opts, o);
    };
  });
}

}  // namespace ncbocr::cli
