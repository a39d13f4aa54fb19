// OCR: receipt files in, recognised text with positions and confidences out.
//
// The recogniser sits behind OcrEngine so that extraction and stage tests run
// without Tesseract (tests use a fake engine that returns canned lines). The
// real engine wraps Tesseract's C++ API; one instance is initialised per
// worker thread and reused for every page, because initialisation costs far
// more than recognising a receipt. OcrPool runs pages on several workers, each
// with its own engine, and is used both by `ncbocr ocr FILE...` and by the
// spool stage.
//
// OcrFile is the whole per-file pipeline: decode (document.h), preprocess
// (preprocess.h), recognise, and if the page looks sideways or upside down,
// detect the orientation, turn it and recognise again. A PDF page with a
// usable text layer skips OCR. The result serialises to the JSON that
// `ncbocr ocr --json` prints and the spool keeps as ocr.json; extraction reads
// it back with OcrDocument::FromJson.
#ifndef NCBOCR_OCR_H_
#define NCBOCR_OCR_H_

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "ncbocr/config.h"
#include "ncbocr/preprocess.h"
#include "ncbocr/status.h"

namespace ncbocr {

// Pixel rectangle in the coordinates of the processed page image.
struct OcrBox {
  int x = 0, y = 0, w = 0, h = 0;
};

struct OcrWord {
  std::string text;
  double confidence = 0;  // 0..1
  OcrBox box;
};

struct OcrLine {
  std::string text;       // words joined by single spaces
  double confidence = 0;  // 0..1, mean of the words
  OcrBox box;
  std::vector<OcrWord> words;
  // A second, independent reading of a money or date line (its crop
  // binarised on its own and read as a single line); empty when the line
  // was not read twice. Extraction weighs the two readings against the
  // receipt's arithmetic.
  std::string alt;
  double alt_confidence = 0;
};

// What an engine returns for one image.
struct OcrText {
  std::vector<OcrLine> lines;
  double mean_confidence = 0;  // 0..1 over all words; 0 when there are none
};

struct OcrPage {
  int index = 0;
  std::string source = "ocr";  // "ocr" or "pdf-text" (text layer used)
  int width = 0, height = 0;   // processed image size (what boxes refer to)
  int rotation = 0;            // degrees clockwise the page was turned (0/90/180/270)
  double skew = 0;             // degrees turned to level the lines
  double scale = 1;            // resampling factor applied
  double mean_confidence = 0;
  std::vector<OcrLine> lines;
  // ocr_ms covers all recognition of the page; orientation_ms and reread_ms
  // are the parts of it spent on the orientation check and on second readings.
  double preprocess_ms = 0, ocr_ms = 0, orientation_ms = 0, reread_ms = 0;
  // The recognising engine's own steps (OcrEngine::TakeStepTimes), summed
  // over all its calls for the page, orientation retries and second
  // readings of lines included: parts of ocr_ms. JSON: one "<step>_ms" key
  // each in the page's timings. Empty for an engine that does not report.
  std::map<std::string, double> step_ms;
  // The orientation check, made only on pages whose first reading looks
  // sideways or poor: OSD's proposal and confidence, and whether the turned
  // page was read again and kept.
  struct OrientationCheck {
    bool done = false;
    int osd_turns = -1;        // -1: OSD gave no answer
    double osd_confidence = 0;
    bool reread = false;       // the turned page was recognised again
    bool kept = false;         // ... and read better, so the turn was kept
  } orientation_check;

  std::string Text() const;    // lines joined by newlines
};

struct OcrDocument {
  std::string file;
  std::string format;          // JPEG, PNG, TIFF, PDF...
  std::string engine;          // e.g. "tesseract 5.3.0 eng+msa psm 4"
  std::string preprocess;      // the spec used
  std::vector<OcrPage> pages;
  double decode_ms = 0, total_ms = 0;
  // A second engine's reading of the same file (ocr.engine
  // "tesseract+paddle"): at most one document, without a second of its own;
  // empty when one engine read it (or ocr.second_reading "unsettled" found
  // the first reading enough). JSON key "second"; an ocr.json without it
  // reads as before. second_error: why the second engine gave nothing (the
  // first reading stands alone).
  std::vector<OcrDocument> second;
  std::string second_error;
  // "lines" for a second reading of some of the first reading's lines only
  // (ReadLinesAgain); empty for a reading of the whole file. JSON "scope".
  std::string scope;

  std::string Text() const;    // pages joined by form feeds
  nlohmann::json ToJson() const;
  static Result<OcrDocument> FromJson(const nlohmann::json& j);
};

// An orientation guess: quarter turns clockwise that make the page upright.
struct Orientation {
  int quarter_turns = 0;
  double confidence = 0;  // engine-specific; Tesseract OSD's orient_conf
};

// What another engine read of one page, for an engine that may leave some
// of it unread (OcrEngine::set_known_lines): the lines' boxes on the page
// as OcrFile preprocessed it, each marked sure or not, and the line above
// which everything is read whatever (the provider's name and address).
struct KnownPage {
  int width = 0, height = 0;  // the page these boxes are on; another size: none apply
  int read_above = 0;         // rows whose middle is above this y are read
  struct Line {
    OcrBox box;
    bool sure = false;
  };
  std::vector<Line> lines;
};

class OcrEngine {
 public:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  virtual ~OcrEngine() = default;
  // Recognition still running at this time is cancelled (nullopt: no limit);
  // it applies to every later call until changed. Tesseract honours it
  // through its progress monitor (Recognize then fails with a "timed out"
  // kPermanent error, IsOcrTimeout); an engine that cannot cancel ignores
  // it, and OcrFile checks the clock after each call instead.
  void set_deadline(Deadline d) { deadline_ = d; }
  Deadline deadline() const { return deadline_; }
  virtual std::string Name() const = 0;
  // Recognises one 8-bit grayscale (or binary) image.
  virtual Result<OcrText> Recognize(const cv::Mat& gray) = 0;
  // Orientation detection; nullopt when the engine cannot tell.
  virtual std::optional<Orientation> DetectOrientation(const cv::Mat& gray) { return std::nullopt; }
  // Recognises an image holding a single line of text.
  virtual Result<OcrText> RecognizeLine(const cv::Mat& gray) { return Recognize(gray); }
  // Milliseconds spent in each of the engine's own steps since the last
  // call, which starts the count again (the paddle engine: "load",
  // "detect", "classify", "recognise"). Empty for an engine that does not
  // split its work (Tesseract: OcrFile's own timings say where it went).
  virtual std::map<std::string, double> TakeStepTimes() { return {}; }
  // Whether OcrFile reads this engine's money and date lines a second time
  // when ocr.reread_lines is on (RereadKeyLines). The paddle engine says no
  // (measured in ocr_paddle.cc).
  virtual bool WantsLineRereads() const { return true; }
  // Per page of the next OcrFile: what another engine read there. An engine
  // may leave unread a row of text that lies within lines it read surely
  // (the paddle engine does, see paddle::RegionsToRead; Tesseract reads
  // everything). OcrFile says which page it is reading (set_page; -1: none
  // of them, as for a page turned after the other engine read it).
  void set_known_lines(std::vector<KnownPage> pages) { known_ = std::move(pages); }
  void set_page(int index) { page_ = index; }

 protected:
  // The known lines of the page being read, if they are of an image this
  // size; else none.
  const KnownPage* KnownFor(int width, int height) const {
    if (page_ < 0 || page_ >= static_cast<int>(known_.size())) return nullptr;
    const KnownPage& k = known_[static_cast<size_t>(page_)];
    return k.width == width && k.height == height ? &k : nullptr;
  }
  Deadline deadline_;

 private:
  std::vector<KnownPage> known_;
  int page_ = -1;
};

// What the second engine reads of a file, judged from the first engine's
// reading of it (ocr.second_reading: extraction's SecondReadingFor).
struct SecondReading {
  bool whole = true;  // the whole file; else:
  // per page of the first reading, the indices of its lines the second
  // engine reads again (ReadLinesAgain); none at all: no second reading.
  std::vector<std::vector<int>> lines;
  // For a whole reading: per page, what the first engine read, for the
  // second to leave the rows it read surely (OcrEngine::set_known_lines);
  // empty: the second reads everything.
  std::vector<KnownPage> known;
  bool any() const;
};
// An empty function: the whole file, always.
using SecondReadingWanted = std::function<SecondReading(const OcrDocument& first)>;

// Two engines as one (ocr.engine "tesseract+paddle"): recognises as the
// first does, and OcrFile, given it, reads the file with the first engine,
// then, as `wanted` says, all of it or some of its lines (ReadLinesAgain)
// with the second, keeping that reading in OcrDocument::second. A failure of the second engine is not the file's:
// the first reading stands, with OcrDocument::second_error saying why.
class TwoEngines : public OcrEngine {
 public:
  TwoEngines(std::unique_ptr<OcrEngine> first, std::unique_ptr<OcrEngine> second, SecondReadingWanted wanted)
      : first_(std::move(first)), second_(std::move(second)), wanted_(std::move(wanted)) {}
  std::string Name() const override { return first_->Name() + " + " + second_->Name(); }
  Result<OcrText> Recognize(const cv::Mat& gray) override { return first_->Recognize(gray); }
  std::optional<Orientation> DetectOrientation(const cv::Mat& gray) override {
    return first_->DetectOrientation(gray);
  }
  Result<OcrText> RecognizeLine(const cv::Mat& gray) override { return first_->RecognizeLine(gray); }
  std::map<std::string, double> TakeStepTimes() override { return first_->TakeStepTimes(); }
  bool WantsLineRereads() const override { return first_->WantsLineRereads(); }
  OcrEngine& first() { return *first_; }
  OcrEngine& second() { return *second_; }
  SecondReading Wants(const OcrDocument& first_reading) const {
    return wanted_ ? wanted_(first_reading) : SecondReading{};
  }

 private:
  std::unique_ptr<OcrEngine> first_, second_;
  SecondReadingWanted wanted_;
};

// True for the errors of a time limit (ocr.page_timeout, ocr.claim_timeout):
// the OCR stage parks those claims as timed out rather than unreadable.
bool IsOcrTimeout(const Status& s);

// Reads the money and date lines of a recognised page a second time (see
// ocr_reread.cc), filling OcrLine::alt. `image` is the page as recognised.
void RereadKeyLines(OcrEngine& engine, const cv::Mat& image, OcrText& text);

// A line's box on the page with a margin of a quarter of its height (at
// least 2 pixels) all round, within the page; width or height under 4: none.
std::optional<cv::Rect> LineCrop(const OcrBox& box, const cv::Mat& page);

// A single-line recognition's lines as one line: their texts joined by a
// space, their mean confidence, their words in order (empty texts left out).
OcrLine JoinedLine(const OcrText& text);

// The page segmentation mode used when OcrConfig::psm is -1 (see ocr.cc for
// the measurements behind it).
int DefaultPsm();

// Creates a Tesseract engine for config.languages / psm / tessdata_dir.
// kConfig if a language's traineddata is missing. Tesseract's OpenMP threads
// fight our worker threads: a process using it should start with
// OMP_THREAD_LIMIT=1 (the ncbocr binary does, cli/openmp_limit.cc).
Result<std::unique_ptr<OcrEngine>> MakeTesseractEngine(const OcrConfig& config);

// Runs the pipeline on one file with the given engine, within
// config.page_timeout per page and config.claim_timeout for the file.
Result<OcrDocument> OcrFile(OcrEngine& engine, const std::filesystem::path& path,
                            const OcrConfig& config, const PreprocessOptions& options);

// Another engine's reading of some of `first`'s lines (lines[p]: indices
// into first.pages[p].lines): each page is decoded and preprocessed again
// as for `first` (options) and turned as first's page was; each line is cut
// out by its box, with a margin, and read as one line
// (OcrEngine::RecognizeLine). The result has first's pages (index, size,
// turn), each holding only the lines read, with first's boxes and the
// engine's text and confidence; scope "lines". A page whose image no longer
// matches first's size, or that came from a PDF's text layer, is left
// empty. Within config.page_timeout and claim_timeout as OcrFile.
Result<OcrDocument> ReadLinesAgain(OcrEngine& engine, const std::filesystem::path& path,
                                  const OcrConfig& config, const PreprocessOptions& options,
                                  const OcrDocument& first, const std::vector<std::vector<int>>& lines);

// Number of workers for config.workers (0: hardware threads, at least 1).
int ResolveWorkers(int configured);

using EngineFactory = std::function<Result<std::unique_ptr<OcrEngine>>()>;

// A fixed set of worker threads' engines. Run() hands indices [0, n) to the
// workers; each call of fn gets the engine of the worker running it, so an
// engine is never used by two threads at once.
class OcrPool {
 public:
  static Result<OcrPool> Create(int workers, const EngineFactory& factory);
  int size() const { return static_cast<int>(engines_.size()); }
  void Run(size_t n, const std::function<void(OcrEngine&, size_t)>& fn);

 private:
  std::vector<std::unique_ptr<OcrEngine>> engines_;
};

// OCRs many files on the pool, results in input order.
std::vector<Result<OcrDocument>> OcrFiles(OcrPool& pool, const std::vector<std::filesystem::path>& files,
                                          const OcrConfig& config, const PreprocessOptions& options);

}  // namespace ncbocr

#endif  // NCBOCR_OCR_H_
