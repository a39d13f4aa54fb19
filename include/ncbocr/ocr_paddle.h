// The PaddleOCR v4 engine: a second recogniser behind OcrEngine, run by
// OpenCV's DNN module on the models scripts/fetch-models.sh installs.
//
// A page goes through DB text detection (a probability map; each region
// above a threshold becomes a rotated box, grown by the unclip distance and
// cut out of the page with a perspective warp), the angle classifier (a
// crop it calls upside down with more than 0.9 is turned 180 degrees, on a
// page only when most of its 16 widest crops are: else the page is taken
// as upright and its other crops are not classified), and CTC recognition.
// Recognition networks take one fixed width each (see
// scripts/convert-paddle-models.py): crops are grouped by width bucket and
// each bucket's network, loaded on first use, reads its crops. The greedy
// CTC decoding keeps, for each character, its frames and confidence; the
// Chinese+English model seldom emits spaces, so words are split where the
// distance between consecutive characters' frames is well above the line's
// usual pitch. Boxes whose vertical extents overlap are joined into one
// line, left to right, as Tesseract's psm 4 keeps a label and its amount
// on one line.
//
// One engine per worker thread, like Tesseract's. It cannot cancel a
// recognition in progress; it checks the deadline between crops.
#ifndef NCBOCR_OCR_PADDLE_H_
#define NCBOCR_OCR_PADDLE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ncbocr/config.h"
#include "ncbocr/ocr.h"
#include "ncbocr/status.h"

namespace ncbocr {

// Where the models are looked for when ocr.models_dir is empty: "models"
// beside the running binary (build/models for a build tree), then
// ../share/ncbocr/models beside it (an installed binary), then
// /usr/share/ncbocr/models. Returns the first that holds det.onnx, else the
// first candidate (so an error can name it).
std::string DefaultPaddleModelsDir();

// Creates a Paddle engine reading the models in config.models_dir (or the
// default). kConfig, one line naming the directory and scripts/setup.sh,
// when a model file is missing; kConfig too when OpenCV cannot load one.
// config.use_gpu "true" or "auto" uses OpenCV's CUDA backend when OpenCV
// was built with it and sees a device; "false", or no CUDA, the CPU.
Result<std::unique_ptr<OcrEngine>> MakePaddleEngine(const OcrConfig& config);

// The engine config.engine names: "tesseract", "paddle", or
// "tesseract+paddle" (TwoEngines, ocr.h: Tesseract's reading, then
// paddle's where `wanted` says so; empty: every file); "auto" as
// ResolveAutoEngine settles it (without its warning: the caller that
// wants it calls ResolveAutoEngine first).
Result<std::unique_ptr<OcrEngine>> MakeOcrEngine(const OcrConfig& config, SecondReadingWanted wanted = {});

// The first model file of the paddle engine missing from config.models_dir
// (or the default directory), as a path; nullopt when all are there.
std::optional<std::string> MissingPaddleModel(const OcrConfig& config);

// Settles ocr.engine "auto": "tesseract+paddle" when the paddle engine's
// models are installed, else "tesseract", and then returns the one warning
// line to show (empty otherwise, and for any other engine, left as it is).
std::string ResolveAutoEngine(OcrConfig& config);

// The engines of config.engine, split at '+': {"tesseract"}, {"paddle"}
// or {"tesseract", "paddle"}.
std::vector<std::string> EngineNames(const std::string& engine);

// The pure steps of the engine, public for the unit tests.
namespace paddle {

// Recognition width buckets, in pixels at height 48, ascending; the
// networks' output has one CTC frame per 8 pixels.
const std::vector<int>& RecognitionWidths();
constexpr int kFramePixels = 8;

// The index of the smallest bucket at least `width` wide (the last one when
// none is: the crop is then squeezed to that width).
int WidthBucket(int width);

// A character as CTC greedy decoding reads it: dictionary class (1-based,
// 0 is the blank), first and last frame of its run, and its confidence (the
// mean over its frames of the best class probability).
struct CtcChar {
  int cls = 0;
  int first_frame = 0, last_frame = 0;
  double confidence = 0;
};

// Greedy CTC over a frames x classes matrix of probabilities (row-major):
// the best class of each frame, runs of one class collapsed, blanks dropped.
// A class repeated after a blank is two characters.
std::vector<CtcChar> CtcGreedyDecode(const float* probs, int frames, int classes);

struct DecodedWord {
  std::string text;
  double confidence = 0;  // mean of its characters
  int first_frame = 0, last_frame = 0;
};

// Splits decoded characters into words. dict[cls - 1] is a class's text; a
// class whose text is " " (the model's own space) always separates words.
// Otherwise a word ends where the distance between the centres of two
// consecutive characters' runs exceeds gap_factor times the line's median
// such distance and is at least min_gap_frames.
std::vector<DecodedWord> SplitWords(const std::vector<CtcChar>& chars, const std::vector<std::string>& dict,
                                    double gap_factor = 1.4, double min_gap_frames = 4.0);

// A dictionary entry as extraction wants it: a full-width form of an ASCII
// character (U+FF01..U+FF5E, which the Chinese model prefers for
// punctuation: "，" "：" "（") becomes that character, the ideographic
// space a space; anything else is unchanged.
std::string AsciiForm(const std::string& entry);

// Groups boxes into lines of text: a box joins a line when its vertical
// extent overlaps the line's by at least half the lower of the two heights.
// Lines are returned top to bottom, each as indices into `boxes` sorted
// left to right.
std::vector<std::vector<int>> GroupIntoLines(const std::vector<OcrBox>& boxes);

// Which of a page's detected boxes to recognise, given what another engine
// read there: all of them, but for rows (GroupIntoLines) whose middle is
// below known.read_above, that overlap known lines (vertically, by half
// the lower height), all of them sure, and that those lines' extent covers
// across at least 90% of the row's width. A row whose amount the other
// engine missed ("SUB-TOTAL" read, "52.00" beside it not) is read.
std::vector<bool> RegionsToRead(const std::vector<OcrBox>& boxes, const KnownPage& known);

}  // namespace paddle

}  // namespace ncbocr

#endif  // NCBOCR_OCR_PADDLE_H_
