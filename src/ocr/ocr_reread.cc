// A second reading of the lines that carry money and dates.
//
// Tesseract, reading a whole receipt page in gray, misreads single digits of
// amounts often enough to matter ("9.00" as "9.60"). Reading the same line
// again, cut out and binarised with a threshold chosen for that line alone
// (Otsu), errs differently: on the dev receipts the two readings disagree
// where one of them is wrong, and agree almost only where both are right.
// Extraction uses the pair as two witnesses, with the receipt's own
// arithmetic deciding between them when they differ. Only lines with an
// amount or a date are read again (a handful per receipt), so the cost is a
// small share of the page's recognition.
#include <algorithm>
#include <regex>

#include <opencv2/imgproc.hpp>

#include "ncbocr/ocr.h"
#include "ncbocr/parse.h"

namespace ncbocr {

namespace {

// At most this many lines of a page are read again: a long itemised bill
// must not double its cost.
constexpr int kMaxLines = 24;

bool WorthRereading(const OcrLine& l) {
  if (l.box.w <= 0 || l.box.h <= 0 || l.text.size() > 120) return false;
  if (!FindAmounts(l.text).empty()) return true;
  // Date-like: two separators between digits ("25/12/2018", "25-12-18").
  static const std::regex kDateish(R"(\d{1,4}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?\d{2,4})");
  return std::regex_search(l.text, kDateish);
}

}  // namespace

void RereadKeyLines(OcrEngine& engine, const cv::Mat& image, OcrText& text) {
  if (image.empty() || image.type() != CV_8UC1) return;
  const cv::Rect page(0, 0, image.cols, image.rows);
  int done = 0;
  // Bottom up: the totals sit low on a receipt and matter most.
  for (auto it = text.lines.rbegin(); it != text.lines.rend() && done < kMaxLines; ++it) {
    OcrLine& l = *it;
    if (!WorthRereading(l)) continue;
    int pad = std::max(2, l.box.h / 4);
    cv::Rect r = cv::Rect(l.box.x - pad, l.box.y - pad, l.box.w + 2 * pad, l.box.h + 2 * pad) & page;
    if (r.width < 4 || r.height < 4) continue;
    cv::Mat crop = image(r), bin, framed;
    cv::threshold(crop, bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    // A white margin: Tesseract reads glyphs touching the edge badly.
    int m = std::max(4, l.box.h / 2);
    cv::copyMakeBorder(bin, framed, m, m, m, m, cv::BORDER_CONSTANT, cv::Scalar(255));
    Result<OcrText> again = engine.RecognizeLine(framed);
    ++done;
    if (!again.ok() || again->lines.empty()) continue;
    std::string joined;
    double conf = 0;
    int n = 0;
    for (const auto& al : again->lines) {
      if (!joined.empty()) joined += ' ';
      joined += al.text;
      conf += al.confidence;
      ++n;
    }
    l.alt = joined;
    l.alt_confidence = n ? conf / n : 0;
  }
}

}  // namespace ncbocr
