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

std::optional<cv::Rect> LineCrop(const OcrBox& box, const cv::Mat& page) {
  int pad = std::max(2, box.h / 4);
  cv::Rect r = cv::Rect(box.x - pad, box.y - pad, box.w + 2 * pad, box.h + 2 * pad) & cv::Rect(0, 0, page.cols, page.rows);
  if (r.width < 4 || r.height < 4) return std::nullopt;
  return r;
}

OcrLine JoinedLine(const OcrText& text) {
  OcrLine out;
  double conf = 0;
  int n = 0;
  for (const auto& l : text.lines) {
    if (l.text.empty()) continue;
    if (!out.text.empty()) out.text += ' ';
    out.text += l.text;
    conf += l.confidence;
    ++n;
    out.words.insert(out.words.end(), l.words.begin(), l.words.end());
  }
  out.confidence = n ? conf / n : 0;
  return out;
}

void RereadKeyLines(OcrEngine& engine, const cv::Mat& image, OcrText& text) {
  if (image.empty() || image.type() != CV_8UC1) return;
  int done = 0;
  // Bottom up: the totals sit low on a receipt and matter most.
  for (auto it = text.lines.rbegin(); it != text.lines.rend() && done < kMaxLines; ++it) {
    OcrLine& l = *it;
    if (!WorthRereading(l)) continue;
    std::optional<cv::Rect> r = LineCrop(l.box, image);
    if (!r) continue;
    cv::Mat bin, framed;
    cv::threshold(image(*r), bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    // A white margin: Tesseract reads glyphs touching the edge badly.
    int m = std::max(4, l.box.h / 2);
    cv::copyMakeBorder(bin, framed, m, m, m, m, cv::BORDER_CONSTANT, cv::Scalar(255));
    Result<OcrText> again = engine.RecognizeLine(framed);
    ++done;
    if (!again.ok() || again->lines.empty()) continue;
    OcrLine joined = JoinedLine(*again);
    l.alt = joined.text;
    l.alt_confidence = joined.confidence;
  }
}

}  // namespace ncbocr
