// Receipt segmentation (see segment.h).
#include "ncbocr/segment.h"

#include <algorithm>
#include <regex>

#include "extract/extract_internal.h"
#include "ncbocr/extract.h"

namespace ncbocr {

const char kMoreThanOneReceipt[] = "the document seems to hold more than one receipt";

namespace {

// Dates a receipt may carry: not after today, not from a past so far back
// that it is a registration or founding year.
Date Earliest(const Date& today) { return Date{today.year - 30, 1, 1}; }

OcrDocument OnePage(const OcrPage& page) {
  OcrDocument d;
  d.pages.push_back(page);
  return d;
}

// A date or a labelled total, in reading order.
struct Mark {
  bool total = false;
  Date date;
};

std::vector<Mark> MarksOf(const std::vector<std::string>& lines, const Date& today) {
  std::vector<Mark> marks;
  int tax_summary = 0;  // rows left of a "GST SUMMARY" table, whose TOTAL is the tax's
  for (const std::string& raw : lines) {
    const std::string t = internal::FixDigitConfusions(raw);
    if (tax_summary > 0) --tax_summary;
    if (HasLabel(t, "SUMMARY") && (HasLabel(t, "GST") || HasLabel(t, "TAX") || HasLabel(t, "SST")))
      tax_summary = 5;
    std::vector<DateToken> d = FindDates(t, Earliest(today), today);
    if (!d.empty()) marks.push_back({false, d.front().date});
    if (tax_summary == 0 && internal::IsTotalLine(t)) marks.push_back({true, {}});
  }
  return marks;
}

bool HasDateAndTotal(const std::vector<Mark>& marks) {
  bool date = false, total = false;
  for (const Mark& m : marks) (m.total ? total : date) = true;
  return date && total;
}

// Two receipts one above the other: a date, a total, another date, another
// total, the two dates different. (Receipts that print the date at the foot
// would read total, date, total, date; so does one receipt whose number OCR
// read as a date, which is far more common: not counted.)
bool TwoStacked(const std::vector<Mark>& marks) {
  const size_t n = marks.size();
  std::vector<int> totals_before(n + 1, 0);
  for (size_t i = 0; i < n; ++i) totals_before[i + 1] = totals_before[i] + (marks[i].total ? 1 : 0);
  auto totals_between = [&](size_t a, size_t b) { return totals_before[b] - totals_before[a]; };
  for (size_t a = 0; a < n; ++a) {
    if (marks[a].total) continue;
    for (size_t b = a + 1; b < n; ++b) {
      if (marks[b].total || marks[b].date == marks[a].date) continue;
      if (totals_between(a + 1, b) == 0) continue;
      if (totals_between(b + 1, n) > 0) return true;
    }
  }
  return false;
}

// Two receipts side by side: the words left and right of the page's middle
// each make up a date and a labelled total. Needs the words' boxes.
bool TwoSideBySide(const OcrPage& page, const Date& today) {
  int width = page.width;
  bool boxed = false;
  for (const auto& l : page.lines) {
    for (const auto& w : l.words) {
      if (w.box.w <= 0) continue;
      boxed = true;
      if (page.width <= 0) width = std::max(width, w.box.x + w.box.w);
    }
  }
  if (!boxed || width <= 0) return false;
  const int middle = width / 2;
  std::vector<std::string> left, right;
  for (const auto& l : page.lines) {
    std::string lt, rt;
    for (const auto& w : l.words) {
      if (w.box.w <= 0) continue;
      std::string& side = w.box.x + w.box.w / 2 < middle ? lt : rt;
      side += (side.empty() ? "" : " ") + w.text;
    }
    if (!lt.empty()) left.push_back(lt);
    if (!rt.empty()) right.push_back(rt);
  }
  return HasDateAndTotal(MarksOf(left, today)) && HasDateAndTotal(MarksOf(right, today));
}

}  // namespace

std::string MoreThanOneReceiptReason(const PageRange& pages, const std::string& why) {
  return std::string(kMoreThanOneReceipt) + " (" + pages.Describe() + ": " + why + ")";
}

std::string ReceiptKey(const std::string& sha256, const PageRange& pages) {
  return sha256 + "-p" + std::to_string(pages.first) + "-" + std::to_string(pages.last);
}

PageSignals ReadPageSignals(const OcrPage& page, const Date& today) {
  PageSignals s;
  s.page = page.index + 1;
  const OcrDocument one = OnePage(page);
  const std::vector<internal::Line> lines = internal::BuildLines(one);
  if (lines.empty()) {
    s.blank = true;
    return s;
  }
  std::vector<std::string> texts;
  for (const auto& l : lines) texts.push_back(l.text);
  const std::vector<Mark> marks = MarksOf(texts, today);
  s.total = std::any_of(marks.begin(), marks.end(), [](const Mark& m) { return m.total; });

  const ReceiptFields r = ExtractReceipt(one, today);
  if (r.service_date.present()) s.date = ParseDate(r.service_date.value);
  s.receipt_number = r.receipt_number.value;
  // A header is a provider's name (with its legal form or kind of business,
  // or its address) above the page's first amount or date.
  size_t first_fact = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!FindAmounts(lines[i].text).empty() ||
        !FindDates(lines[i].text, Earliest(today), today).empty()) {
      first_fact = i;
      break;
    }
  }
  s.header = first_fact >= 1 && r.provider_name.present() &&
             (r.provider_address.present() || r.provider_name.confidence >= 0.7);

  // Page markers: "Page 2 of 3", "Page 2/3", "Muka surat 2 dari 3".
  static const std::regex kPageOf(
      R"((?:^|[^A-Za-z])(?:page|pg|muka\s*surat|halaman)\s*[.:]?\s*(\d{1,3})\s*(?:of|/|dari|daripada)\s*(\d{1,3}))",
      std::regex::icase);
  static const std::regex kContinues(
      R"((?:^|[^A-Za-z])(?:continued|cont'd|contd|bersambung|carried\s+forward|c/f)(?:$|[^A-Za-z]))",
      std::regex::icase);
  static const std::regex kContinued(R"((?:^|[^A-Za-z])(?:brought\s+forward|b/f)(?:$|[^A-Za-z]))",
                                     std::regex::icase);
  for (const std::string& t : texts) {
    std::smatch m;
    if (std::regex_search(t, m, kPageOf)) {
      const int n = std::stoi(m[1].str()), of = std::stoi(m[2].str());
      if (n > 1 && n <= of) s.continued = true;
      if (n < of) s.continues = true;
    }
    if (std::regex_search(t, kContinued)) s.continued = true;
    if (std::regex_search(t, kContinues)) s.continues = true;
  }

  if (TwoSideBySide(page, today)) {
    s.doubt = "a date and a total on each side of the page";
  } else if (TwoStacked(marks)) {
    s.doubt = "two totals under two different dates";
  }
  return s;
}

std::vector<ReceiptSegment> GroupPages(const std::vector<PageSignals>& pages) {
  std::vector<ReceiptSegment> out;
  std::vector<std::string> whys;  // per segment, "; "-joined
  auto doubt = [&](const PageRange& r, const std::string& why) {
    ReceiptSegment& seg = out.back();
    std::optional<PageRange>& d = seg.doubt_pages;
    d = d ? PageRange{std::min(d->first, r.first), std::max(d->last, r.last)} : r;
    std::string& w = whys.back();
    if (w.find(why) == std::string::npos) w += (w.empty() ? "" : "; ") + why;
    seg.doubt = MoreThanOneReceiptReason(*d, w);
  };
  // The receipt being built: what its pages have shown so far.
  struct Open {
    bool total = false;
    std::optional<Date> date;
    std::string number;
    bool continues = false;
  } open;
  for (const PageSignals& s : pages) {
    bool start = out.empty();
    const bool same_number = !s.receipt_number.empty() && s.receipt_number == open.number;
    const bool said_continued = s.continued || open.continues || same_number;
    const bool other_date = s.date && open.date && *s.date != *open.date;
    if (!start && !s.blank) {
      // A receipt of its own after one that is complete: a header, a date,
      // and its total (or, for a long receipt's first page, another date).
      start = s.header && s.date && open.total && !said_continued && (s.total || other_date);
    }
    if (start) {
      ReceiptSegment seg;
      seg.pages = {s.page, s.page};
      out.push_back(seg);
      whys.emplace_back();
      open = Open{};
    } else {
      ReceiptSegment& seg = out.back();
      seg.pages.last = s.page;
      // A page that goes on with this receipt but shows another date along
      // with a total or a header of its own may be another receipt; so may
      // a page that starts like one after this receipt's total.
      if (other_date && (s.total || s.header)) {
        doubt(seg.pages, "a later page shows its own " + std::string(s.total ? "total" : "header") +
                             " under another date");
      } else if (s.header && s.date && open.total && !said_continued) {
        doubt(seg.pages, "a later page starts with a header of its own");
      }
    }
    if (!s.doubt.empty()) doubt({s.page, s.page}, s.doubt);
    if (s.blank) continue;
    open.total = open.total || s.total;
    if (!open.date) open.date = s.date;
    if (open.number.empty()) open.number = s.receipt_number;
    open.continues = s.continues;
  }
  if (out.empty()) out.push_back(ReceiptSegment{});
  return out;
}

std::vector<ReceiptSegment> SegmentDocument(const OcrDocument& doc, const Date& today) {
  std::vector<PageSignals> pages;
  for (const OcrPage& p : doc.pages) pages.push_back(ReadPageSignals(p, today));
  return GroupPages(pages);
}

OcrDocument PagesOf(const OcrDocument& doc, const PageRange& r) {
  OcrDocument out = doc;
  out.pages.clear();
  for (const OcrPage& p : doc.pages) {
    if (p.index + 1 >= r.first && p.index + 1 <= r.last) out.pages.push_back(p);
  }
  for (OcrDocument& s : out.second) s = PagesOf(s, r);  // the second engine's reading of the same pages
  return out;
}

}  // namespace ncbocr
