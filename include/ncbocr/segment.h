// Segment: which pages of a document hold which receipt.
//
// A member may scan several receipts into one PDF or TIFF, one per page, or
// photograph two receipts side by side. Extraction reads one receipt at a
// time, so before it reads any field the document is cut into receipts:
// one claim per receipt, never one claim made of two.
//
// The rule, page by page in order: the first page starts a receipt. A later
// page starts a new receipt when it carries a receipt of its own (a provider
// header above its first amount or date, its own date, and its own labelled
// total or, for the first page of a long receipt, a date other than the
// receipt's before it) and the receipt before it already reached its total.
// Otherwise it continues that receipt: a long receipt over two pages, a
// blank back side, a page that says so ("Page 2 of 2", "continued" at the
// foot of the page before, "b/f"), a page with the same receipt number.
//
// Where the rule cannot be sure, the segment carries a doubt and the claim
// goes to a clerk with the reason "the document seems to hold more than one
// receipt (PAGES: WHY)":
// - one page shows a date and a total and then another date and another
//   total (two receipts one above the other, on two dates; the TOTAL rows
//   of a tax summary table do not count);
// - the left and right halves of a page (by the words' boxes) each show a
//   date and a labelled total (two receipts side by side);
// - a page continues a receipt and shows a date other than the receipt's
//   along with a total or a header of its own;
// - a page with a header and a date of its own follows a receipt that
//   reached its total, and no marker says it goes on.
//
// Pure functions of the OCR output: the same document always segments the
// same way, which the extract stage relies on after a crash.
#ifndef NCBOCR_SEGMENT_H_
#define NCBOCR_SEGMENT_H_

#include <optional>
#include <string>
#include <vector>

#include "ncbocr/claim.h"
#include "ncbocr/ocr.h"
#include "ncbocr/parse.h"

namespace ncbocr {

// What one page says about where receipts begin and end.
struct PageSignals {
  int page = 1;                // 1-based
  bool blank = false;          // no text at all
  bool header = false;         // a provider header above the first amount or date
  std::optional<Date> date;    // the page's own date, as extraction would choose it
  bool total = false;          // a line labelled as the total, with an amount
  std::string receipt_number;  // as extraction reads it; "" if none
  bool continued = false;      // continues the page before: "page 2 of 3", "b/f"
  bool continues = false;      // goes on over the page: "continued", "bersambung", "c/f"
  std::string doubt;           // why this page alone looks like two receipts; "" if not
};

struct ReceiptSegment {
  PageRange pages;
  std::optional<PageRange> doubt_pages;  // the pages that cast doubt, if any
  std::string doubt;                     // the reason for the clerk; "" when sure
};

// The signals of one page. today bounds plausible dates.
PageSignals ReadPageSignals(const OcrPage& page, const Date& today);

// Groups pages into receipts (the rule above). Every page belongs to exactly
// one segment; segments are in page order and cover pages 1..N. An empty
// input gives one segment of page 1.
std::vector<ReceiptSegment> GroupPages(const std::vector<PageSignals>& pages);

// ReadPageSignals on every page, then GroupPages. Pages are numbered from
// OcrPage::index + 1.
std::vector<ReceiptSegment> SegmentDocument(const OcrDocument& doc, const Date& today);

// The document with only the pages in r (page numbers as above), each page
// keeping its index; the second engine's reading (OcrDocument::second) cut
// the same way.
OcrDocument PagesOf(const OcrDocument& doc, const PageRange& r);

// The review reason for a doubt: "the document seems to hold more than one
// receipt (page 2: WHY)".
std::string MoreThanOneReceiptReason(const PageRange& pages, const std::string& why);

// The duplicate key of one receipt of an attachment: its sha256 and page
// range, "HEX-p2-3" (the spool's digest index holds it next to whole
// attachments' digests).
std::string ReceiptKey(const std::string& sha256, const PageRange& pages);

// The phrase every such reason starts with.
extern const char kMoreThanOneReceipt[];

}  // namespace ncbocr

#endif  // NCBOCR_SEGMENT_H_
