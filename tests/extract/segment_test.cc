// Tests of segment.h on receipts written here, and of the extract stage's
// split of a multi-receipt attachment into claims.
#include "ncbocr/segment.h"

#include <doctest/doctest.h>

#include <set>

#include "ncbocr/extract.h"
#include "ncbocr/extract_stage.h"
#include "ncbocr/ncb.h"
#include "ncbocr/report.h"
#include "test_util.h"

using namespace ncbocr;

namespace {

const Date kToday{2026, 12, 1};

const char* const kClinic = R"(KLINIK DAMAI SDN BHD (100200-A)
12, JALAN MERANTI 4,
47300 PETALING JAYA,
SELANGOR.
TEL: 03-7770 1234
RECEIPT
Receipt No : KD-000451
Date : 02/11/2026 09:40
CONSULTATION 1 40.00
MEDICATION 1 25.50
SUBTOTAL 65.50
TOTAL RM 65.50
CASH 70.00
CHANGE 4.50
THANK YOU
)";

const char* const kPharmacy = R"(FARMASI BAKTI SDN BHD (300400-P)
NO 8, JALAN KENANGA,
81200 JOHOR BAHRU,
JOHOR.
INVOICE
Invoice No : FB-77001
Date : 16/11/2026 18:05
VITAMIN C 1000MG 1 32.90
PLASTER 1 6.10
TOTAL 39.00
CASH 50.00
CHANGE 11.00
)";

// A hospital bill over two pages: the header and date on the first, the
// total on the second.
const char* const kLongPage1 = R"(HOSPITAL SETIA SDN BHD (555666-H)
LOT 21, JALAN SETIA 2,
40000 SHAH ALAM,
SELANGOR.
TAX INVOICE
Bill No : HS-2026-10021
Date : 20/11/2026
WARD CHARGES 2 DAYS 300.00
CONSULTATION 120.00
LABORATORY 85.00
X-RAY 95.00
)";
const char* const kLongPage2 = R"(PHARMACY 64.20
DRESSING 18.80
SUBTOTAL 683.00
TOTAL PAYABLE RM 683.00
PAID BY CARD 683.00
)";

OcrDocument Pages(const std::vector<std::string>& texts) {
  nlohmann::json pages = nlohmann::json::array();
  for (size_t i = 0; i < texts.size(); ++i) pages.push_back({{"index", i}, {"text", texts[i]}});
  return OcrDocument::FromJson(nlohmann::json{{"pages", pages}}).value();
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

// One page holding two receipts side by side, as OCR with word boxes
// returns it: each row of the page is one line whose words come from both.
OcrPage SideBySide(const std::string& left, const std::string& right) {
  std::vector<std::string> l = SplitLines(left), r = SplitLines(right);
  OcrPage page;
  page.width = 2400;
  page.height = 60 * static_cast<int>(std::max(l.size(), r.size())) + 100;
  for (size_t row = 0; row < std::max(l.size(), r.size()); ++row) {
    OcrLine line;
    auto add = [&](const std::string& text, int x0) {
      int x = x0;
      size_t start = 0;
      while (start < text.size()) {
        size_t sp = text.find(' ', start);
        std::string w =
            text.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
        if (!w.empty()) {
          int wpx = 22 * static_cast<int>(w.size());
          line.words.push_back({w, 0.95, {x, 50 + 60 * static_cast<int>(row), wpx, 40}});
          x += wpx + 22;
        }
        if (sp == std::string::npos) break;
        start = sp + 1;
      }
    };
    if (row < l.size()) add(l[row], 40);
    if (row < r.size()) add(r[row], 1300);
    if (line.words.empty()) continue;
    for (const auto& w : line.words) line.text += (line.text.empty() ? "" : " ") + w.text;
    line.confidence = 0.95;
    int x1 = line.words.back().box.x + line.words.back().box.w;
    line.box = {line.words.front().box.x, line.words.front().box.y, x1 - line.words.front().box.x,
                40};
    page.lines.push_back(line);
  }
  return page;
}

bool Doubtful(const ReceiptSegment& s) { return !s.doubt.empty(); }

}  // namespace

TEST_CASE("segment: two receipts on two pages are two receipts, each its own page") {
  std::vector<ReceiptSegment> s = SegmentDocument(Pages({kClinic, kPharmacy}), kToday);
  REQUIRE(s.size() == 2);
  CHECK(s[0].pages == PageRange{1, 1});
  CHECK(s[1].pages == PageRange{2, 2});
  CHECK_FALSE(Doubtful(s[0]));
  CHECK_FALSE(Doubtful(s[1]));

  // Three in a row, the same clinic twice on different days.
  s = SegmentDocument(Pages({kClinic, kPharmacy, kClinic}), kToday);
  REQUIRE(s.size() == 3);
  CHECK(s[2].pages == PageRange{3, 3});
}

TEST_CASE("segment: a long receipt over two pages stays one receipt") {
  std::vector<ReceiptSegment> s = SegmentDocument(Pages({kLongPage1, kLongPage2}), kToday);
  REQUIRE(s.size() == 1);
  CHECK(s[0].pages == PageRange{1, 2});
  CHECK_FALSE(Doubtful(s[0]));

  // Followed by another receipt: two.
  s = SegmentDocument(Pages({kLongPage1, kLongPage2, kPharmacy}), kToday);
  REQUIRE(s.size() == 2);
  CHECK(s[0].pages == PageRange{1, 2});
  CHECK(s[1].pages == PageRange{3, 3});

  // A blank back side belongs to the receipt before it.
  s = SegmentDocument(Pages({kClinic, "", kPharmacy}), kToday);
  REQUIRE(s.size() == 2);
  CHECK(s[0].pages == PageRange{1, 2});
  CHECK(s[1].pages == PageRange{3, 3});
}

TEST_CASE("segment: a repeated header is not a new receipt when the page says it goes on") {
  // Every page carries the header, the date and a running total, but is
  // marked "Page n of 2".
  std::string p1 = std::string(kClinic) + "Page 1 of 2\n";
  std::string p2 = std::string(kClinic) + "Page 2 of 2\n";
  std::vector<ReceiptSegment> s = SegmentDocument(Pages({p1, p2}), kToday);
  REQUIRE(s.size() == 1);
  CHECK(s[0].pages == PageRange{1, 2});

  // The same receipt number on both pages.
  s = SegmentDocument(Pages({kClinic, kClinic}), kToday);
  REQUIRE(s.size() == 1);

  // "Continued" at the foot of the first page.
  s = SegmentDocument(Pages({std::string(kPharmacy) + "CONTINUED ON NEXT PAGE\n", kClinic}),
                      kToday);
  REQUIRE(s.size() == 1);
}

TEST_CASE("segment: two receipts one above the other on one page are a doubt naming the page") {
  std::vector<ReceiptSegment> s =
      SegmentDocument(Pages({kClinic, std::string(kPharmacy) + kLongPage1 + kLongPage2}), kToday);
  REQUIRE(s.size() == 2);
  CHECK_FALSE(Doubtful(s[0]));
  REQUIRE(Doubtful(s[1]));
  CHECK(s[1].doubt.rfind(kMoreThanOneReceipt, 0) == 0);
  CHECK(s[1].doubt.find("(page 2: two totals under two different dates)") != std::string::npos);
  CHECK(s[1].doubt_pages == PageRange{2, 2});

  // One receipt that prints a later date (an offer's end) and has two
  // total lines is not two receipts: the second total is not after it.
  std::string one = std::string(kClinic) + "NEXT VISIT 30/11/2026\n";
  CHECK_FALSE(Doubtful(SegmentDocument(Pages({one}), kToday)[0]));
  // Nor is a card slip under the receipt, dated the same day.
  std::string slip = std::string(kClinic) + "CARD SLIP\nDATE 02/11/2026\nTOTAL RM 65.50\n";
  CHECK_FALSE(Doubtful(SegmentDocument(Pages({slip}), kToday)[0]));
}

TEST_CASE("segment: two receipts side by side on one page are a doubt naming the page") {
  OcrDocument doc;
  doc.pages.push_back(SideBySide(kClinic, kPharmacy));
  std::vector<ReceiptSegment> s = SegmentDocument(doc, kToday);
  REQUIRE(s.size() == 1);
  REQUIRE(Doubtful(s[0]));
  CHECK(s[0].doubt == std::string(kMoreThanOneReceipt) +
                          " (page 1: a date and a total on each side of the page)");

  // One receipt laid out wide, labels left and amounts right, is not.
  OcrDocument wide;
  wide.pages.push_back(
      SideBySide("KLINIK DAMAI SDN BHD\n47300 PETALING JAYA\nDate :\nTOTAL RM\nCASH",
                 "\n\n02/11/2026\n65.50\n70.00"));
  CHECK_FALSE(Doubtful(SegmentDocument(wide, kToday)[0]));
}

TEST_CASE(
    "segment: a later page with its own total under another date casts doubt on the receipt") {
  // The second receipt's header is unreadable: it cannot be told apart for
  // sure, and must not be read as one receipt either.
  std::string headless = R"(Invoice No : FB-77001
Date : 16/11/2026 18:05
VITAMIN C 1000MG 1 32.90
TOTAL 39.00
)";
  std::vector<ReceiptSegment> s = SegmentDocument(Pages({kClinic, headless}), kToday);
  REQUIRE(s.size() == 1);
  REQUIRE(Doubtful(s[0]));
  CHECK(s[0].doubt.find("(pages 1-2: ") != std::string::npos);

  // The first receipt's total is unreadable, the second one is whole: the
  // chimera of the first page's date and the second page's total.
  std::string no_total = R"(KLINIK DAMAI SDN BHD (100200-A)
12, JALAN MERANTI 4,
47300 PETALING JAYA,
SELANGOR.
Date : 02/11/2026 09:40
CONSULTATION 1 40.00
)";
  s = SegmentDocument(Pages({no_total, kPharmacy}), kToday);
  REQUIRE(s.size() == 1);
  CHECK(Doubtful(s[0]));
}

TEST_CASE("segment: page signals, page ranges and keys") {
  PageSignals p = ReadPageSignals(Pages({kClinic}).pages[0], kToday);
  CHECK(p.page == 1);
  CHECK(p.header);
  CHECK(p.total);
  REQUIRE(p.date);
  CHECK(p.date->Iso() == "2026-11-02");
  CHECK(p.receipt_number == "KD-000451");
  PageSignals q = ReadPageSignals(Pages({kLongPage1, kLongPage2}).pages[1], kToday);
  CHECK(q.page == 2);
  CHECK_FALSE(q.header);
  CHECK(q.total);
  CHECK_FALSE(q.date);
  CHECK(ReadPageSignals(Pages({""}).pages[0], kToday).blank);

  OcrDocument three = Pages({kClinic, kPharmacy, kLongPage2});
  OcrDocument mid = PagesOf(three, {2, 3});
  REQUIRE(mid.pages.size() == 2);
  CHECK(mid.pages[0].index == 1);
  CHECK(mid.pages[1].index == 2);
  CHECK(PageRange{2, 2}.Describe() == "page 2");
  CHECK(PageRange{1, 3}.Describe() == "pages 1-3");
  CHECK(ReceiptKey("ab12", {2, 3}) == "ab12-p2-3");
  CHECK(GroupPages({}).size() == 1);
}

// --- the extract stage's split ---

namespace {

class FixedClock : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::system_clock::from_time_t(1796119200);
  }  // 2026-12-01
};

struct SplitFixture {
  SplitFixture() : spool(*Spool::Open(dir.path())) { config.extract.review_sample_rate = 0; }

  // A claim waiting for extraction whose attachment OCR read as `doc`.
  Claim Add(const OcrDocument& doc, const std::string& bytes) {
    Claim c = testing::PutClaim(spool, ClaimState::kOcred, bytes);
    REQUIRE(spool.WriteClaimFile(c, "ocr.json", doc.ToJson().dump()).ok());
    EmailInfo e;
    e.text = "Member ID: M22222\nPolicy number: POL-2026-00042";
    REQUIRE(spool.WriteClaimFile(c, "email.json", e.ToJson().dump()).ok());
    return c;
  }
  StageReport Extract() {
    StageContext ctx{config, spool, NullLogger(), clock, "extract"};
    return RunExtractStage(ctx);
  }
  std::vector<Claim> All() const {
    std::vector<Claim> out;
    for (ClaimState s : AllClaimStates()) {
      for (const auto& id : spool.List(s)) out.push_back(*spool.LoadIn(s, id));
    }
    return out;
  }
  nlohmann::json Extraction(const Claim& c) const {
    return nlohmann::json::parse(spool.ReadClaimFile(c, "extract.json").value());
  }
  std::string Value(const Claim& c, const char* field) const {
    const nlohmann::json v = Extraction(c)["fields"][field]["value"];
    return v.is_string() ? v.get<std::string>() : "";
  }

  testing::TempDir dir;
  Spool spool;
  Config config;
  FixedClock clock;
};

}  // namespace

TEST_CASE(
    "extract stage: a two-receipt attachment makes two claims, each with its own page's fields") {
  SplitFixture f;
  Claim parent = f.Add(Pages({kClinic, kPharmacy}), "two receipts, one PDF");
  StageReport r = f.Extract();
  CHECK(r.status.ok());
  std::vector<Claim> all = f.All();
  REQUIRE(all.size() == 2);

  Claim first = *f.spool.Load(parent.id);
  Claim second = *f.spool.Load(parent.id + "-p2-2");
  CHECK(first.pages == PageRange{1, 1});
  CHECK(second.pages == PageRange{2, 2});
  CHECK(first.attachment_receipts == 2);
  CHECK(second.attachment_receipts == 2);
  CHECK(second.split_from == parent.id);
  CHECK(first.split_from.empty());
  CHECK(first.notes["segment"]["receipts"].size() == 2);
  // Both go on to NCB, each with its own receipt's fields.
  CHECK(first.state == ClaimState::kReady);
  CHECK(second.state == ClaimState::kReady);
  CHECK(f.Value(first, "provider_name") == "KLINIK DAMAI SDN BHD");
  CHECK(f.Value(first, "service_date") == "2026-11-02");
  CHECK(f.Value(first, "total_amount") == "65.50");
  CHECK(f.Value(first, "receipt_number") == "KD-000451");
  CHECK(f.Value(second, "provider_name") == "FARMASI BAKTI SDN BHD");
  CHECK(f.Value(second, "service_date") == "2026-11-16");
  CHECK(f.Value(second, "total_amount") == "39.00");
  CHECK(f.Value(second, "receipt_number") == "FB-77001");
  CHECK(f.Extraction(second)["pages"] == nlohmann::json::array({2, 2}));
  // The second claim has the member's email and the attachment too.
  CHECK(f.Value(second, "member_id") == "M22222");
  CHECK(f.spool.ReadClaimFile(second, "original.jpg").value() == "two receipts, one PDF");
  CHECK(second.attachment->sha256 == first.attachment->sha256);
  // Its creation is in its history, naming the pages and the first claim.
  REQUIRE_FALSE(second.history.empty());
  CHECK(second.history.front().reason.find("page 2 of claim " + parent.id) != std::string::npos);

  // Two receipts are two NCB claims: different Idempotency-Keys, and the
  // file name NCB gets says which page.
  CHECK(IdempotencyKey(first) != IdempotencyKey(second));
  CHECK(IdempotencyKey(second) == IdempotencyKey(*f.spool.Load(second.id)));
  ClaimValues v = f.spool.LoadClaimValues(second).value();
  CHECK(v.fields["source_filename"] == "receipt.jpg (page 2)");

  // Listings name the pages, however short the column.
  CHECK(AttachmentLabel(second) == "receipt.jpg (page 2)");
  CHECK(AttachmentLabel(second, 14) == "rece~ (page 2)");
  CHECK(AttachmentLabel(first, 14).size() <= 14);
  nlohmann::json rows = ClaimsJson(f.spool, {ClaimState::kReady});
  REQUIRE(rows.size() == 2);
  CHECK(rows[1]["pages"] == nlohmann::json::array({2, 2}));
  CHECK(rows[1]["split_from"] == parent.id);
  CHECK(ClaimsText(rows).find("receipt.jpg (page 2)") != std::string::npos);
  CHECK(ClaimText(second, "").find("receipt      page 2 (the attachment holds 2 receipts)") !=
        std::string::npos);

  // Run again: nothing new, nothing moved.
  f.Extract();
  CHECK(f.All().size() == 2);
  CHECK(f.spool.Load(second.id)->state == ClaimState::kReady);
}

TEST_CASE("extract stage: a split cut short by a crash is finished, never repeated") {
  SplitFixture f;
  Claim parent = f.Add(Pages({kClinic, kPharmacy}), "two receipts, one PDF");
  f.Extract();
  REQUIRE(f.All().size() == 2);
  // As if the run died after committing the second receipt's claim and
  // before saving the first claim's page range: the first claim waits,
  // unsegmented, while the second has gone on.
  Claim c = *f.spool.Load(parent.id);
  REQUIRE(f.spool.Move(c, ClaimState::kOcred, "test", "rerun").ok());
  c.pages.reset();
  c.attachment_receipts = 0;
  c.notes.erase("segment");
  REQUIRE(f.spool.SaveManifest(c).ok());
  f.Extract();
  std::vector<Claim> all = f.All();
  CHECK(all.size() == 2);
  Claim again = *f.spool.Load(parent.id);
  CHECK(again.pages == PageRange{1, 1});
  CHECK(again.state == ClaimState::kReady);
  CHECK(f.Value(again, "total_amount") == "65.50");
  CHECK(f.spool.Load(parent.id + "-p2-2")->state == ClaimState::kReady);
}

TEST_CASE("extract stage: the same receipt of the same attachment is a duplicate") {
  SplitFixture f;
  Claim parent = f.Add(Pages({kClinic, kPharmacy}), "two receipts, one PDF");
  // Another claim already holds page 2 of these bytes.
  REQUIRE(
      f.spool.ClaimSha(ReceiptKey(parent.attachment->sha256, {2, 2}), "20250101-000000-00000000")
          .ok());
  f.Extract();
  Claim second = *f.spool.Load(parent.id + "-p2-2");
  CHECK(second.state == ClaimState::kDuplicate);
  CHECK(second.duplicate_of == "20250101-000000-00000000");
  CHECK(f.spool.Load(parent.id)->state == ClaimState::kReady);
}

TEST_CASE("extract stage: a long receipt over two pages is one claim of both pages") {
  SplitFixture f;
  Claim c = f.Add(Pages({kLongPage1, kLongPage2}), "a hospital bill");
  f.Extract();
  REQUIRE(f.All().size() == 1);
  Claim got = *f.spool.Load(c.id);
  CHECK(got.pages == PageRange{1, 2});
  CHECK(got.attachment_receipts == 1);
  CHECK(f.Value(got, "total_amount") == "683.00");
  CHECK(f.Value(got, "service_date") == "2026-11-20");
  CHECK(IdempotencyKey(got) == "ncbocr-" + got.attachment->sha256.substr(0, 40));
  CHECK(f.spool.LoadClaimValues(got).value().fields["source_filename"] == "receipt.jpg");
}

TEST_CASE(
    "extract stage: receipts side by side or stacked on one page go to a clerk, the page named") {
  SplitFixture f;
  OcrDocument side;
  side.pages.push_back(SideBySide(kClinic, kPharmacy));
  Claim a = f.Add(side, "a photo of two receipts");
  Claim b = f.Add(Pages({std::string(kClinic) + kPharmacy}), "two receipts in one scan");
  f.Extract();
  CHECK(f.All().size() == 2);
  for (const Claim& c : {a, b}) {
    Claim got = *f.spool.Load(c.id);
    CHECK(got.state == ClaimState::kReview);
    REQUIRE_FALSE(got.review_reasons.empty());
    CHECK(got.review_reasons[0].rfind("the document seems to hold more than one receipt (page 1: ",
                                      0) == 0);
    CHECK(got.reason.find("the document seems to hold more than one receipt (page 1") !=
          std::string::npos);
  }
}

// --- the invariant: one claim's evidence, one receipt ---

namespace {

// The segments whose pages hold some evidence of some field of x.
std::set<size_t> SegmentsTouched(const std::map<std::string, Field>& fields,
                                 const std::vector<ReceiptSegment>& segs) {
  std::set<size_t> touched;
  for (const auto& [name, f] : fields) {
    for (int p : f.pages) {
      for (size_t k = 0; k < segs.size(); ++k) {
        if (p >= segs[k].pages.first && p <= segs[k].pages.last) touched.insert(k);
      }
    }
  }
  return touched;
}

}  // namespace

TEST_CASE("segment invariant: no claim's fields have evidence from two receipts of one document") {
  const std::vector<OcrDocument> docs = {
      Pages({kClinic, kPharmacy}),
      Pages({kLongPage1, kLongPage2, kPharmacy}),
      Pages({kPharmacy, "", kClinic, kLongPage1, kLongPage2}),
  };
  ExtractConfig config;
  ExtractOptions opt;
  opt.today = kToday;
  for (const OcrDocument& doc : docs) {
    std::vector<ReceiptSegment> segs = SegmentDocument(doc, kToday);
    REQUIRE(segs.size() >= 2);
    for (size_t k = 0; k < segs.size(); ++k) {
      Extraction x = ExtractClaim(PagesOf(doc, segs[k].pages), std::nullopt, config, opt);
      CHECK(x.fields["total_amount"].present());
      CHECK_FALSE(x.fields["total_amount"].pages.empty());
      CHECK_FALSE(x.fields["service_date"].pages.empty());
      CHECK(SegmentsTouched(x.fields, segs) == std::set<size_t>{k});
    }
    // The check can fail: the document read whole, as before segmentation,
    // takes the date from one receipt and the total from another.
    Extraction whole = ExtractClaim(doc, std::nullopt, config, opt);
    CHECK(SegmentsTouched(whole.fields, segs).size() > 1);
  }
}

TEST_CASE("segment invariant: the extract stage's claims keep their evidence on their own pages") {
  SplitFixture f;
  f.Add(Pages({kClinic, kLongPage1, kLongPage2, kPharmacy}), "three receipts, one PDF");
  f.Extract();
  std::vector<Claim> all = f.All();
  REQUIRE(all.size() == 3);
  for (const Claim& c : all) {
    REQUIRE(c.pages);
    nlohmann::json fields = f.Extraction(c)["fields"];
    int with_evidence = 0;
    for (const auto& [name, fj] : fields.items()) {
      if (!fj.contains("pages")) continue;
      ++with_evidence;
      for (int p : fj["pages"]) {
        CHECK(p >= c.pages->first);
        CHECK(p <= c.pages->last);
      }
    }
    CHECK(with_evidence >= 3);
  }
}
