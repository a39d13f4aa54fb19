// Fuzz target: the readers of amounts, dates, labels and receipt numbers
// that every receipt line and email body goes through (parse.cc,
// extract_money.cc and the receipt-number and date rules). Input: text, read
// as one line and then as receipt lines; its first byte also picks a label.
#include <array>

#include "extract/extract_internal.h"
#include "fuzz_support.h"
#include "ncbocr/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ncbocr;
  std::string_view s = fuzz::AsView(data, size);
  const Date earliest{1990, 1, 1}, latest{2026, 11, 29};

  if (auto c = ParseAmount(s)) (void)FormatCents(*c);
  for (const AmountToken& t : FindAmounts(s)) (void)FormatCents(t.cents);
  for (const DateToken& t : FindDates(s, earliest, latest)) (void)t.date.Iso();
  (void)FindDatesRepairingYear(s, earliest, latest);
  for (const DateToken& t : FindDatesLeniently(s, earliest, latest)) (void)t.date.Iso();
  if (auto d = ParseDate(s)) (void)IsValidDate(d->year, d->month, d->day);
  (void)MonthFromName(s);
  (void)NormalizeForMatch(s);
  (void)CollapseSpaces(s);
  (void)ToUpper(s);

  static const std::array<const char*, 6> kLabels = {"TOTAL", "SUB TOTAL", "RECEIPT NO",
                                                     "DATE", "", "GRAND TOTAL RM"};
  std::string_view label = kLabels[size ? data[0] % kLabels.size() : 0];
  (void)HasLabel(s, label);
  (void)FindLabelEnd(s, label);

  std::string line(s);
  (void)internal::FixDigitConfusions(line);
  (void)internal::CountAlphaChars(line);
  (void)internal::RepairMoneyLabelWords(line);

  // The same text as receipt lines, through the rules that read amounts
  // (with the receipt's arithmetic), the date and the receipt number.
  std::vector<internal::Line> lines;
  for (std::string& text : fuzz::Split(s, '\n', 200)) {
    internal::Line l;
    l.text = internal::FixDigitConfusions(text);
    l.confidence = 0.9;
    lines.push_back(std::move(l));
  }
  ReceiptFields r;
  internal::ExtractHeader(lines, r);
  internal::ExtractReceiptNumber(lines, r);
  internal::ExtractDate(lines, latest, r);
  internal::ExtractMoney(lines, r);
  return 0;
}
