// Eval: how well OCR + extraction read receipts whose true values are known.
//
// Given a folder of receipt images and a folder of keys (one JSON per image,
// same stem: {"company", "date", "address", "total"}), it runs the whole
// pipeline and scores each field by normalised exact match: company and
// address upper-cased with every run of characters other than A-Z, 0-9 and
// '&' folded to one space; date as a calendar date read day first; total as
// a number to two places. It also reports the share of receipts routed to
// submit and the error rate among those (a wrong total or date on a claim
// that would have been submitted is the costliest mistake).
//
// The dev receipts come without emails, so routing here assumes the member
// fields are present (assume_member_present) and skips the service-age check;
// the report says so. OCR results can be cached in a folder keyed by image
// name and OCR settings, so extraction can be re-tuned without re-running
// Tesseract.
//
// A receipt-number file (EvalOptions::receipt_numbers, read by
// ReadReceiptNumbers) holds receipt numbers a person read from some of the
// images: {"numbers": {STEM: "NUMBER" | null}} (null: the receipt prints
// none). For those receipts the report counts how often a number is found
// where one is printed, right (same letters and digits, case and
// punctuation aside) or wrong, and found where none is printed.
//
// A hold-out list (EvalOptions::holdout) splits the receipts in two: the
// tuning set, which rules are written against, and the hold-out, which only
// ever contributes figures. Both are scored separately; misses are listed for
// the tuning set alone unless show_holdout_misses is set, so that reading
// the report while writing a rule does not leak the hold-out into it.
#ifndef NCBOCR_EVAL_H_
#define NCBOCR_EVAL_H_

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/config.h"
#include "ncbocr/ocr.h"
#include "ncbocr/status.h"

namespace ncbocr {

struct EvalOptions {
  std::filesystem::path images;
  std::filesystem::path keys;
  std::filesystem::path ocr_cache;   // empty: no cache
  PreprocessOptions preprocess = DefaultPreprocessOptions();
  int limit = 0;                     // 0: all receipts
  std::set<std::string> holdout;     // stems of the hold-out receipts
  bool show_holdout_misses = false;
  // Hand-read receipt numbers: stem -> number as printed, nullopt: none printed.
  std::map<std::string, std::optional<std::string>> receipt_numbers;
  // Show OCR progress on the terminal (Progress::Interactive).
  bool progress = false;
  // A second engine (ocr.engine "tesseract+paddle"): its name (for the
  // cache signature), a factory, and its own cache folder (readings of
  // different engines never share one). Each receipt's second reading goes
  // to extraction as OcrDocument::second, as SecondReadingFor says for
  // second_reading (ocr.second_reading); a reading of some lines only is
  // cached apart (NAME.lines.json).
  std::string second_engine;         // empty: one engine
  EngineFactory second_factory;
  std::filesystem::path second_ocr_cache;
  std::string second_reading = "always";
};

// Reads a receipt-number file (see above). kUsage naming the file if it
// cannot be read, is not that JSON, or labels nothing.
Result<std::map<std::string, std::optional<std::string>>> ReadReceiptNumbers(
    const std::filesystem::path& file);

// Reads a hold-out list: one receipt stem per line, '#' comments and blank
// lines ignored. kUsage if the file cannot be read or names nothing.
Result<std::set<std::string>> ReadHoldoutList(const std::filesystem::path& file);

// One field of one receipt.
struct EvalField {
  std::string expected, found;
  bool correct = false;
};

struct EvalReceipt {
  std::string id;                    // file stem
  std::string error;                 // OCR failure, if any
  EvalField company, date, address, total;
  std::string decision;
  double confidence = 0;
  std::vector<std::string> reasons;
  bool holdout = false;              // in the hold-out list
  bool second_read = false;          // a second engine read it whole
  bool second_lines = false;         // ... or its header lines only (unsettled+header)
  double ocr_ms = 0;                 // recognition of both readings, as recorded in them
  // Receipt number, where the receipt-number file labels this receipt.
  bool number_labelled = false;
  std::optional<std::string> number_expected;
  std::string number_found;
  double number_confidence = 0;
};

// Receipt numbers over the hand-labelled receipts.
struct EvalNumberScore {
  int labelled = 0;          // receipts in the file (and in this run)
  int printed = 0;           // of them, printing a number
  int found = 0;             // a number found where one is printed
  int right = 0, wrong = 0;  // of those found
  int wrong_confident = 0;   // wrong at a confidence reaching the threshold
  int found_where_none = 0;  // a number found where none is printed

  void Add(const EvalReceipt& r, double threshold);
  nlohmann::json ToJson() const;
  std::string ToText() const;
};

// Counts over a set of receipts.
struct EvalScore {
  int n = 0;
  int company = 0, date = 0, address = 0, total = 0;  // correct counts
  int submitted = 0;
  int submitted_wrong = 0;           // wrong total or date among submitted
  int second_read = 0;               // read by a second engine too, whole
  int second_lines = 0;              // ... or its header lines only
  double ocr_ms = 0;                 // summed EvalReceipt::ocr_ms

  void Add(const EvalReceipt& r);
  nlohmann::json ToJson() const;
};

struct EvalReport {
  std::vector<EvalReceipt> receipts;
  int n = 0;
  int company = 0, date = 0, address = 0, total = 0;  // correct counts, all receipts
  int submitted = 0;
  int submitted_wrong = 0;           // wrong total or date among submitted
  int ocr_computed = 0, ocr_cached = 0;
  int second_computed = 0, second_cached = 0, second_read = 0;  // with a second engine
  int second_lines = 0;              // of which header lines only
  double ocr_ms = 0;                 // summed EvalReceipt::ocr_ms
  std::string second_engine;
  std::string routing_note;
  // With a hold-out list: the two sets apart (both empty without one).
  EvalScore tuning, holdout;
  bool has_holdout = false;
  bool show_holdout_misses = false;
  bool has_numbers = false;          // a receipt-number file was given
  EvalNumberScore numbers;

  nlohmann::json ToJson() const;
  std::string ToText() const;
};

// Equality as the evaluation defines it.
bool SameText(const std::string& expected, const std::string& found);
bool SameDate(const std::string& expected, const std::string& found);
bool SameAmount(const std::string& expected, const std::string& found);
// Receipt numbers: the same letters and digits, ignoring case and everything else.
bool SameNumber(const std::string& expected, const std::string& found);

// A string that changes whenever the OCR output would (languages, PSM,
// preprocessing); cached results with another signature are recomputed.
std::string OcrSignature(const OcrConfig& config, const PreprocessOptions& options);

// Runs the evaluation. Engines come from factory (one per worker).
Result<EvalReport> RunEval(const EvalOptions& options, const Config& config,
                           const EngineFactory& factory);

}  // namespace ncbocr

#endif  // NCBOCR_EVAL_H_
