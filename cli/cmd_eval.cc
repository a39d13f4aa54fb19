// ncbocr eval: accuracy of OCR + extraction on receipts with known values
// (see man/ncbocr-eval.1 and eval.h).
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "ncbocr/progress.h"
#include "ncbocr/eval.h"
#include "ncbocr/gpu.h"
#include "ncbocr/ocr_paddle.h"

namespace ncbocr::cli {

namespace {

struct EvalCliOptions {
  std::string images, keys, cache, second_cache, preprocess, lang, holdout, numbers;
  int psm = -1, workers = -1, limit = 0;
  bool json = false, show_holdout_misses = false;
};

int EvalCommand(const GlobalOptions& g, const EvalCliOptions& c) {
  Result<Config> config = LoadConfigFor(g);
  if (!config.ok()) return Fail(config.status());
  EvalOptions o;
  o.progress = Progress::Interactive(g.quiet);
  o.images = c.images;
  o.keys = c.keys;
  o.ocr_cache = c.cache;
  o.limit = c.limit;
  if (!c.holdout.empty()) {
    Result<std::set<std::string>> h = ReadHoldoutList(c.holdout);
    if (!h.ok()) return Fail(h.status());
    o.holdout = std::move(h).value();
  }
  o.show_holdout_misses = c.show_holdout_misses;
  if (!c.numbers.empty()) {
    auto n = ReadReceiptNumbers(c.numbers);
    if (!n.ok()) return Fail(n.status());
    o.receipt_numbers = std::move(n).value();
  }
  if (!c.preprocess.empty()) {
    Result<PreprocessOptions> p = ParsePreprocessSpec(c.preprocess);
    if (!p.ok()) return Fail(p.status());
    o.preprocess = *p;
  }
  if (c.psm >= 0) config->ocr.psm = c.psm;
  if (c.workers >= 0) config->ocr.workers = c.workers;
  if (!c.lang.empty()) {
    config->ocr.languages.clear();
    size_t start = 0;
    while (start <= c.lang.size()) {
      size_t plus = c.lang.find('+', start);
      std::string l = c.lang.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
      if (!l.empty()) config->ocr.languages.push_back(l);
      if (plus == std::string::npos) break;
      start = plus + 1;
    }
  }
  Result<bool> gpu = ResolveUseGpu(config->ocr.use_gpu, MakeLogger(config->log, "eval"));
  if (!gpu.ok()) return Fail(gpu.status());
  o.preprocess.use_gpu = *gpu;
  // Two engines: the first reads as configured alone, the second with its
  // own cache (a reading is cached under its engine's signature).
  WarnEngineNote(*config);
  std::vector<std::string> engines = EngineNames(config->ocr.engine);
  if (engines.size() == 2) {
    if (!c.cache.empty() && c.second_cache.empty()) {
      return Fail(Status::Usage("--ocr-cache with two engines needs --second-ocr-cache too (one folder per engine)"));
    }
    OcrConfig second = config->ocr;
    second.engine = engines[1];
    o.second_engine = engines[1];
    o.second_factory = [second] { return MakeOcrEngine(second); };
    o.second_ocr_cache = c.second_cache;
    o.second_reading = config->ocr.second_reading;
    config->ocr.engine = engines[0];
  }
  const OcrConfig ocr = config->ocr;
  Result<EvalReport> r = RunEval(o, *config, [ocr] { return MakeOcrEngine(ocr); });
  if (!r.ok()) return Fail(r.status());
  if (c.json) std::cout << r->ToJson().dump(2) << "\n";
  else std::cout << r->ToText();
  return kExitOk;
}

}  // namespace

void RegisterEval(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("eval", "accuracy of OCR and extraction against known values");
  static EvalCliOptions c;
  cmd->add_option("--images", c.images, "folder of receipt images")->required();
  cmd->add_option("--keys", c.keys, "folder of keys: NAME.json with company, date, address, total")->required();
  cmd->add_option("--ocr-cache", c.cache, "folder to keep OCR results in between runs");
  cmd->add_option("--second-ocr-cache", c.second_cache,
                  "with ocr.engine tesseract+paddle: the folder to keep the second engine's readings in");
  cmd->add_option("--preprocess", c.preprocess, "preprocessing spec (see ncbocr ocr)");
  cmd->add_option("--psm", c.psm, "Tesseract page segmentation mode");
  cmd->add_option("--lang", c.lang, "Tesseract languages, e.g. eng+msa");
  cmd->add_option("--workers", c.workers, "OCR worker threads (0: one per core)");
  cmd->add_option("--limit", c.limit, "only the first N receipts");
  cmd->add_option("--holdout", c.holdout,
                  "file of receipt stems kept out of tuning: scored apart, their misses not listed");
  cmd->add_option("--receipt-numbers", c.numbers,
                  "JSON of receipt numbers read by hand ({\"numbers\": {STEM: NUMBER|null}}): "
                  "found/right/wrong");
  cmd->add_flag("--show-holdout-misses", c.show_holdout_misses, "list the hold-out receipts' misses too");
  cmd->add_flag("--json", c.json, "JSON report");
  cmd->callback([&st] { st.action = [&st] { return EvalCommand(st.opts, c); }; });
}

}  // namespace ncbocr::cli
