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
// "Rounditg") put right, for classifying the line, as is one split by a
// stray space next to a fragment of one or two letters ("Payal e",
// "TOT AL"); real words one letter away ("CHARGE") are left alone.
std::string RepairMoneyLabelWords(const std::string& text);

// Two engines' readings of one text (a name, an address), merged letter
// by letter: the letters and digits aligned by edit distance (case
// ignored), the word spaces of `first`, the characters of `second` where
// the two differ, except where a letter stands against a digit and the
// word around it says which it is ("C0" in a word of letters is CO), an
// I against an l (one glyph in many fonts), and within a word of
// `first` that is a known word (IsKnownWord: "TAMAN" stands against
// "TANAN"); `first`'s characters where `second` has none, and `second`'s
// where `first` has none inside the text (not before its start or after
// its end: `first` chose which lines the field holds). None when they differ in more than a quarter of their
// characters (two different lines, not two readings of one), or when
// either is longer than kMergeMaxChars. Time: the product of the lengths.
// A word of the vocabulary extraction knows (the words of company marks,
// states and address words: "SDN", "TAMAN", "SELANGOR"), any case.
bool IsKnownWord(const std::string& word);

// An address's words with OCR slips of case and of one letter mended: an I
// after the first letter among small letters is an l and an l among
// capitals an I ("JIn", "MASAl"), a zero between letters an O ("L0T"); a
// word of five letters or more one letter off a common address word or
// place name of its length ("LUMFUR", "Selangcr", "BANCAR") is that word,
// in the word's case, and two words one edit off a two-word place name
// ("Shah Alan", "SHAT ALAM") are that name. Also: a floor's ordinal with
// its digit read as a letter ("SRD FLR" is 3RD, as the suffix says), a
// common word split by a stray space ("PERINDUS TRIAN"), an & spaced on
// one side only ("14& 16"). Known words (IsKnownWord) stand.
std::string TidyAddressWords(const std::string& text);

constexpr size_t kMergeMaxChars = 400;
std::optional<std::string> MergeReadings(const std::string& first, const std::string& second);

// The header (name, address) is what comes before the first line that
// EndsHeader (an amount, or a date, cashier or receipt-number label), at
// most kHeaderMaxLines lines.
constexpr size_t kHeaderMaxLines = 15;
bool EndsHeader(const std::string& line);

void ExtractHeader(const std::vector<Line>& lines, ReceiptFields& r);
void ExtractReceiptNumber(const std::vector<Line>& lines, ReceiptFields& r);
void ExtractDate(const std::vector<Line>& lines, const Date& today, ReceiptFields& r);
void ExtractMoney(const std::vector<Line>& lines, ReceiptFields& r);

// True if the line is labelled as the receipt's total (not a subtotal, a
// tax, a total per tax rate or a quantity) and carries an amount: what
// segment.cc counts as a receipt's own total.
bool IsTotalLine(const std::string& text);

// True if the line carries a money label of any kind but an item count
// (TOTAL, CASH, GST, ROUNDING...), with or without an amount read beside it.
bool HasMoneyLabel(const std::string& text);

// The letters and digits of `v`, upper-cased: how names and numbers are
// compared when engines space and punctuate them differently.
std::string AlnumUpper(const std::string& v);

// Two readings of one receipt number that differ only by letters in front
// of one of them, compared on letters and digits: capitals the other
// reading lost to the junk before them ("CS00012013" and "00012013": the
// longer is the number), or lower-case letters that are junk themselves
// ("sKSB80051978" and "KSB80051978": the shorter is). Returns the reading to
// keep as given, `a` when the two are alike; nothing when they differ
// otherwise.
std::optional<std::string> SameNumberButPrefix(const std::string& a, const std::string& b);

// `number` without the capital letters it starts with, when what is left is
// at least 6 letters and digits, most of them digits ("R000110133" ->
// "000110133"); nothing otherwise.
std::optional<std::string> NumberWithoutLetterPrefix(const std::string& number);

}  // namespace ncbocr::internal

#endif  // NCBOCR_EXTRACT_INTERNAL_H_
