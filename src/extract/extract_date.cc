// The service date of a receipt.
//
// Every date printed on the receipt is a candidate; a label (DATE, TARIKH)
// and repetition pick one, and dates OCR could have made of one another (a
// second reading of the line, one digit apart) lower the confidence. When
// no date reads cleanly, a misread year and then a garbled labelled line
// are tried, and the result always goes to review.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>

#include "extract/extract_internal.h"
#include "ncbocr/extract.h"
#include "ncbocr/util.h"

namespace ncbocr::internal {

void ExtractDate(const std::vector<Line>& lines, const Date& today, ReceiptFields& r) {
  struct Seen {
    int count = 0;        // lines whose first reading shows it
    int alt_count = 0;    // lines whose second reading only shows it
    bool confirmed = false;  // both readings of a line show it
    bool labelled = false;
    double conf = 0;
    size_t first = 0;
  };
  std::map<Date, Seen> seen;
  const Date earliest{2000, 1, 1};
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& t = lines[i].text;
    std::vector<DateToken> d = FindDates(t, earliest, today);
    bool label = HasLabel(t, "DATE") || HasLabel(t, "TARIKH") || HasLabel(t, "DATED") ||
                 HasLabel(t, "INVOICE DATE") || HasLabel(t, "TRANS DATE");
    for (const auto& dt : d) {
      Seen& s = seen[dt.date];
      if (s.count == 0) s.first = i;
      s.count++;
      s.labelled |= label;
      // The date's own words: one misread digit shows in their confidence.
      s.conf = std::max(s.conf, lines[i].ConfidenceOf(dt.begin, dt.end));
    }
    if (lines[i].alt.empty()) continue;
    for (const auto& dt : FindDates(lines[i].alt, earliest, today)) {
      bool same = std::any_of(d.begin(), d.end(), [&](const DateToken& p) { return p.date == dt.date; });
      Seen& s = seen[dt.date];
      if (same) {
        s.confirmed = true;
        continue;
      }
      if (s.count == 0 && s.alt_count == 0) s.first = i;
      s.alt_count++;
      s.conf = std::max(s.conf, lines[i].alt_confidence * 0.9);
    }
  }
  bool repaired = false;
  if (seen.empty()) {
    // Last resort: a date whose year OCR misread ("2048" for "2018").
    for (size_t i = 0; i < lines.size(); ++i) {
      for (const auto& dt : FindDatesRepairingYear(lines[i].text, earliest, today)) {
        Seen& s = seen[dt.date];
        if (s.count == 0) s.first = i;
        s.count++;
        s.conf = std::max(s.conf, lines[i].confidence);
        repaired = true;
      }
    }
  }
  bool broken = false;
  if (seen.empty()) {
    // Then a line labelled as a date whose separators OCR garbled.
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& t = lines[i].text;
      for (const std::string* reading : {&t, &lines[i].alt}) {
        size_t after = FindLabelEnd(*reading, "DATE");
        if (after == std::string::npos) after = FindLabelEnd(*reading, "TARIKH");
        if (after == std::string::npos) continue;
        for (const auto& dt :
             FindDatesLeniently(std::string_view(*reading).substr(after), earliest, today)) {
          Seen& s = seen[dt.date];
          if (s.count == 0) s.first = i;
          s.count++;
          s.labelled = true;
          s.conf = std::max(s.conf, lines[i].confidence);
          broken = true;
        }
      }
    }
  }
  if (seen.empty()) {
    r.problems.push_back("no date found on the receipt");
    return;
  }
  auto better = [](const std::pair<const Date, Seen>& a, const std::pair<const Date, Seen>& b) {
    // A date only the second reading shows is a fallback, never a rival.
    if ((a.second.count > 0) != (b.second.count > 0)) return a.second.count > 0;
    if (a.second.labelled != b.second.labelled) return a.second.labelled;
    if (a.second.count != b.second.count) return a.second.count > b.second.count;
    if (a.second.first != b.second.first) return a.second.first < b.second.first;
    return a.second.alt_count > b.second.alt_count;
  };
  auto best = seen.begin();
  for (auto it = seen.begin(); it != seen.end(); ++it) {
    if (better(*it, *best)) best = it;
  }
  // A single well-formed date is what receipts print; a label confirms it.
  double conf = best->second.labelled ? 0.97 : 0.93;
  // Another date is a rival when OCR could have made one of the two out of
  // the other: a second reading of a line, or one digit apart ("10/03" and
  // "11/03"). Dates far apart are other facts the receipt prints (a
  // promotion's end, a registration, a warranty) and cast no doubt.
  auto one_digit_apart = [](const Date& a, const Date& b) {
    char x[16], y[16];
    std::snprintf(x, sizeof x, "%02d%02d%04d", a.day, a.month, a.year);
    std::snprintf(y, sizeof y, "%02d%02d%04d", b.day, b.month, b.year);
    int diff = 0;
    for (int i = 0; i < 8; ++i) diff += x[i] != y[i];
    return diff == 1;
  };
  std::string rivals, others;
  for (const auto& [d, sn] : seen) {
    if (d == best->first) continue;
    if (sn.count == 0)
      rivals += (rivals.empty() ? "" : ", ") + d.Iso() + " (second reading)";
    else if (one_digit_apart(d, best->first))
      rivals += (rivals.empty() ? "" : ", ") + d.Iso();
    else
      others += (others.empty() ? "" : ", ") + d.Iso();
  }
  if (!rivals.empty()) {
    conf -= 0.15;
    r.problems.push_back("the receipt shows more than one date: " + best->first.Iso() +
                         " chosen, also " + rivals);
  }
  if (!others.empty()) r.notes.push_back("other dates on the receipt: " + others);
  // Tesseract is often sure of a misread digit, so only a clearly read date
  // keeps its confidence (measured: dev dates read at word confidence < 0.85
  // are wrong one time in six).
  // Two readings of the line that agree on the date stand in for a clear one.
  double read_conf = best->second.confirmed ? std::max(best->second.conf, 0.9) : best->second.conf;
  conf *= std::min(1.0, 0.45 + 0.6 * read_conf);
  if (broken) {
    conf = std::min(conf, 0.6);
    r.problems.push_back("the date was pieced together from a garbled line");
  }
  if (repaired) {
    conf = std::min(conf, 0.6);
    r.problems.push_back("the year of the date was unreadable and has been guessed");
  }
  r.service_date = {best->first.Iso(), conf, "ocr"};
  // The evidence: every line that shows the chosen date, in either reading;
  // failing that, the lines a repaired reading found it on.
  for (int pass = 0; pass < 2 && r.service_date.pages.empty(); ++pass) {
    for (const Line& l : lines) {
      for (const std::string* t : {&l.text, &l.alt}) {
        std::vector<DateToken> d;
        if (pass == 0) {
          d = FindDates(*t, earliest, today);
        } else {
          d = FindDatesLeniently(*t, earliest, today);
          std::vector<DateToken> y = FindDatesRepairingYear(*t, earliest, today);
          d.insert(d.end(), y.begin(), y.end());
        }
        if (std::any_of(d.begin(), d.end(), [&](const DateToken& k) { return k.date == best->first; }))
          r.service_date.AddPage(l.page + 1);
      }
    }
  }
}

}  // namespace ncbocr::internal
