// Private to extraction: the pieces ExtractReceipt is made of, exposed so
// tests can check each rule on its own.
#ifndef NCBOCR_EXTRACT_INTERNAL_H_
#define NCBOCR_EXTRACT_INTERNAL_H_

#include <string>
#include <vector>

#include "ncbocr/extract.h"

namespace ncbocr::internal {

// One visual line of the receipt, in reading order.
struct Line {
  std::string text;        // as read, digit confusions inside numbers fixed
  double confidence = 0;   // 0..1
  int page = 0;
  // Each word's byte range in text and its confidence (empty when the OCR
  // gave no words, e.g. a PDF text layer).
  struct Word { size_t begin, end; double confidence; };
  std::vector<Word> words;
  // The second reading of the line (OcrLine::alt), digit confusions fixed;
  // empty when it was read once.
  std::string alt;
  double alt_confidence = 0;
  // Lowest word confidence over the byte range [b, e); the line's when
  // words are unknown.
  double ConfidenceOf(size_t b, size_t e) const;
};

// Reading-order lines of all pages; lines Tesseract split on one row (label
// left, amount right) are joined again using their boxes.
std::vector<Line> BuildLines(const OcrDocument& doc);

// Fixes OCR confusions inside numbers: "2O18" -> "2018", "l0.00" -> "10.00".
std::string FixDigitConfusions(const std::string& s);

// Letters in s (ASCII).
int CountAlphaChars(const std::string& s);

// Money-line label words OCR got one letter wrong ("Tatal", "CHANGI",
// "Rounditg") put right, for classifying the line; real words one letter
// away ("CHARGE") are left alone.
std::string RepairMoneyLabelWords(const std::string& text);

void ExtractHeader(const std::vector<Line>& lines, ReceiptFields& r);
void ExtractReceiptNumber(const std::vector<Line>& lines, ReceiptFields& r);
void ExtractDate(const std::vector<Line>& lines, const Date& today, ReceiptFields& r);
void ExtractMoney(const std::vector<Line>& lines, ReceiptFields& r);

// True if the line is labelled as the receipt's total (not a subtotal, a
// tax, a total per tax rate or a quantity) and carries an amount: what
// segment.cc counts as a receipt's own total.
bool IsTotalLine(const std::string& text);

}  // namespace ncbocr::internal

#endif  // NCBOCR_EXTRACT_INTERNAL_H_
