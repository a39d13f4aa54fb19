// FuseReceipts and the two-engine extraction: agree, one missing, disagree.
#include <doctest/doctest.h>

#include "extract/extract_internal.h"
#include "ncbocr/extract.h"
#include "ncbocr/segment.h"

using namespace ncbocr;

namespace {

const Date kToday{2024, 6, 30};
const FusionNames kNames{"tesseract", "paddle"};
constexpr double kThreshold = 0.90;

ReceiptFields WithTotal(const std::string& total, double confidence) {
  ReceiptFields r;
  r.total_amount = {total, confidence, "ocr"};
  return r;
}

bool Has(const std::vector<std::string>& v, const std::string& part) {
  for (const auto& s : v) {
    if (s.find(part) != std::string::npos) return true;
  }
  return false;
}

OcrDocument Doc(const std::string& text, const std::string& engine) {
  OcrDocument d = OcrDocument::FromJson(nlohmann::json{{"pages", {{{"text", text}}}}}).value();
  d.engine = engine;
  return d;
}

}  // namespace

TEST_CASE("fusion: both engines read the same total: confidence rises, below 1") {
  ReceiptFields a = WithTotal("12.40", 0.88), b = WithTotal("12.40", 0.88);
  ReceiptFields f = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(f.total_amount.value == "12.40");
  CHECK(f.total_amount.confidence == doctest::Approx(0.94));
  CHECK(f.conflicts.empty());
  // The surer of the two is the base.
  ReceiptFields g = FuseReceipts(WithTotal("12.40", 0.75), WithTotal("12.40", 0.97), kNames, kThreshold);
  CHECK(g.total_amount.confidence == doctest::Approx(0.985));
  CHECK(g.total_amount.confidence < 1.0);
}

TEST_CASE("fusion: a total both read alike that the receipt's sums arrive at is settled, unless rounded") {
  // Faint TOTAL lines (0.5 and 0.6), but SUB-TOTAL 26.00 + TAX 1.56 = 27.56.
  ReceiptFields a = WithTotal("27.56", 0.5), b = WithTotal("27.56", 0.6);
  b.subtotal = 2600;
  b.tax = 156;
  ReceiptFields f = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(f.total_amount.confidence >= kThreshold);
  CHECK(Has(f.notes, "arithmetic arrives at 27.56"));
  // Cash less change arrives at it: the same.
  ReceiptFields c = WithTotal("27.56", 0.5), d = WithTotal("27.56", 0.6);
  d.cash = 5000;
  d.change = 2244;
  CHECK(FuseReceipts(c, d, kNames, kThreshold).total_amount.confidence >= kThreshold);
  // No sum arrives at it: only the two readings' agreement.
  d.change = 2200;
  CHECK(FuseReceipts(c, d, kNames, kThreshold).total_amount.confidence == doctest::Approx(0.8));
  // A rounding adjustment: two totals, before and after it; left unsure.
  a.total_amount.value = b.total_amount.value = "27.55";
  b.rounding = -1;
  ReceiptFields g = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(g.total_amount.confidence == doctest::Approx(0.8));
  CHECK_FALSE(Has(g.notes, "arithmetic arrives"));
}

TEST_CASE("fusion: two readings at 0.8 that agree reach the threshold 0.90 exactly") {
  // 0.8 + (1 - 0.8) / 2 is 0.8999999999999999 in doubles unless rounded.
  ReceiptFields f = FuseReceipts(WithTotal("12.40", 0.8), WithTotal("12.40", 0.8), kNames, kThreshold);
  CHECK(f.total_amount.confidence >= kThreshold);
}

TEST_CASE("fusion: a field one engine missed is the other's, with a note") {
  ReceiptFields a;  // tesseract read no total
  ReceiptFields b = WithTotal("60.30", 0.88);
  b.subtotal = 6030;
  ReceiptFields f = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(f.total_amount.value == "60.30");
  CHECK(f.total_amount.confidence == doctest::Approx(0.88));
  CHECK(f.subtotal == 6030);  // the figures follow the total's reading
  CHECK(Has(f.notes, "total read by paddle only"));

  // The other way round: the first reading's value stands untouched.
  ReceiptFields g = FuseReceipts(WithTotal("60.30", 0.88), ReceiptFields{}, kNames, kThreshold);
  CHECK(g.total_amount.value == "60.30");
  CHECK(g.total_amount.confidence == doctest::Approx(0.88));

  ReceiptFields da, db;
  db.service_date = {"2024-03-05", 0.93, "ocr"};
  CHECK(FuseReceipts(da, db, kNames, kThreshold).service_date.value == "2024-03-05");
}

TEST_CASE("fusion: totals that differ: the one the receipt's arithmetic arrives at wins") {
  // Tesseract read 12.90 (label alone), paddle 12.40; paddle also read
  // subtotal 11.70 and tax 0.70, which sum to 12.40.
  ReceiptFields a = WithTotal("12.90", 0.88);
  ReceiptFields b = WithTotal("12.40", 0.75);
  b.subtotal = 1170;
  b.tax = 70;
  ReceiptFields f = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(f.total_amount.value == "12.40");
  CHECK(f.total_amount.confidence == doctest::Approx(0.75));
  CHECK(f.conflicts.empty());
  CHECK(Has(f.notes, "total: tesseract read 12.90, paddle 12.40; the receipt's arithmetic supports 12.40"));

  // Cash - change, from the first reading's figures, supports the first.
  ReceiptFields c = WithTotal("45.05", 0.80);
  c.cash = 5000;
  c.change = 495;
  ReceiptFields d = WithTotal("45.65", 0.85);
  CHECK(FuseReceipts(c, d, kNames, kThreshold).total_amount.value == "45.05");

  // Two or more items summing to it count too.
  ReceiptFields e = WithTotal("42.50", 0.80), g = WithTotal("42.80", 0.85);
  e.items = {{"PANADOL", "12.50"}, {"VITAMIN C", "30.00"}};
  CHECK(FuseReceipts(e, g, kNames, kThreshold).total_amount.value == "42.50");
}

TEST_CASE("fusion: totals that differ with no arithmetic either way: the surer, kept below the threshold") {
  ReceiptFields f = FuseReceipts(WithTotal("12.90", 0.75), WithTotal("12.40", 0.88), kNames, kThreshold);
  CHECK(f.total_amount.value == "12.40");
  CHECK(f.total_amount.confidence == doctest::Approx(0.85));
  CHECK(f.total_amount.confidence < kThreshold);
  CHECK(f.conflicts.empty());
  CHECK(Has(f.problems, "total: tesseract read 12.90, paddle 12.40"));
}

TEST_CASE("fusion: both engines confident and different: a conflict for a clerk") {
  ReceiptFields f = FuseReceipts(WithTotal("12.40", 0.97), WithTotal("12.90", 0.93), kNames, kThreshold);
  REQUIRE(f.conflicts.size() == 1);
  CHECK(f.conflicts[0] == "total: tesseract read 12.40, paddle 12.90");

  ReceiptFields a, b;
  a.service_date = {"2024-03-05", 0.97, "ocr"};
  b.service_date = {"2024-03-06", 0.93, "ocr"};
  ReceiptFields g = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(g.service_date.value == "2024-03-05");
  REQUIRE(g.conflicts.size() == 1);
  CHECK(g.conflicts[0] == "service date: tesseract read 2024-03-05, paddle 2024-03-06");

  // One of them unsure: no conflict, the surer wins with doubt left.
  b.service_date.confidence = 0.6;
  ReceiptFields h = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(h.conflicts.empty());
  CHECK(h.service_date.value == "2024-03-05");
  CHECK(h.service_date.confidence == doctest::Approx(0.85));
}

TEST_CASE("fusion: names and numbers are compared on letters and digits; the first engine's text stands") {
  ReceiptFields a, b;
  a.provider_name = {"KEDAI UBAT SEJAHTERA SDN BHD", 0.8, "ocr"};
  b.provider_name = {"KEDAIUBATSEJAHTERASDNBHD", 0.7, "ocr"};
  a.receipt_number = {"INV-2019-0042", 0.8, "ocr"};
  b.receipt_number = {"INV20190042", 0.8, "ocr"};
  b.provider_address = {"NO12,JALANMAWAR3,43000KAJANG,SELANGOR", 0.7, "ocr"};
  ReceiptFields f = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(f.provider_name.value == "KEDAI UBAT SEJAHTERA SDN BHD");
  CHECK(f.provider_name.confidence == doctest::Approx(0.9));
  CHECK(f.receipt_number.value == "INV-2019-0042");
  CHECK(f.receipt_number.confidence == doctest::Approx(0.9));
  CHECK(f.provider_address.value == "NO12,JALANMAWAR3,43000KAJANG,SELANGOR");  // only paddle read it

  // Different names (two lines, not two readings of one): the first engine's, unchanged.
  b.provider_name.value = "KEDAI RUNCIT";
  ReceiptFields g = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(g.provider_name.value == "KEDAI UBAT SEJAHTERA SDN BHD");
  CHECK(g.provider_name.confidence == doctest::Approx(0.8));
}

TEST_CASE("fusion: unsettled readings are those missing total or date, or under the threshold") {
  ReceiptFields r = WithTotal("12.40", 0.97);
  CHECK(ReceiptUnsettled(r, kThreshold));  // no date
  r.service_date = {"2024-03-05", 0.97, "ocr"};
  CHECK_FALSE(ReceiptUnsettled(r, kThreshold));
  r.service_date.confidence = 0.6;
  CHECK(ReceiptUnsettled(r, kThreshold));
}

TEST_CASE("fusion: a document with a second reading is extracted from both, and a conflict goes to a clerk") {
  const std::string head = "KEDAI UBAT SEJAHTERA SDN BHD\nNO 12, JALAN MAWAR 3,\n43000 KAJANG, SELANGOR.\n"
                           "Invoice No : INV-0042\nDate : 05/03/2019\n";
  OcrDocument doc = Doc(head + "PANADOL 10S 1 12.50\nVITAMIN C 1 30.00\nSUBTOTAL 42.50\nTOTAL 42.50\n",
                        "tesseract 5.3.0 eng+msa psm 4");
  // Tesseract alone: no conflict.
  ExtractConfig config;
  ExtractOptions opt;
  opt.today = kToday;
  opt.claim_id = "c1";
  opt.assume_member_present = true;
  opt.check_service_age = false;
  Extraction alone = ExtractClaim(doc, std::nullopt, config, opt);
  REQUIRE(alone.fields["total_amount"].value == "42.50");

  // Paddle reads the same receipt alike: the total's confidence rises.
  doc.second = {Doc(head + "PANADOL 10S 1 12.50\nVITAMIN C 1 30.00\nSUBTOTAL 42.50\nTOTAL 42.50\n", "paddle")};
  Extraction agreed = ExtractClaim(doc, std::nullopt, config, opt);
  CHECK(agreed.fields["total_amount"].value == "42.50");
  CHECK(agreed.fields["total_amount"].confidence >= alone.fields["total_amount"].confidence);

  // Paddle reads a different, equally well supported total: a clerk decides.
  doc.second = {Doc(head + "PANADOL 10S 1 12.80\nVITAMIN C 1 30.00\nSUBTOTAL 42.80\nTOTAL 42.80\n", "paddle")};
  Extraction split = ExtractClaim(doc, std::nullopt, config, opt);
  CHECK(split.decision == "review");
  CHECK(Has(split.reasons, "total: tesseract read 42.50, paddle 42.80"));
}

TEST_CASE("fusion: the second reading survives JSON and page cuts; an old ocr.json has none") {
  OcrDocument doc = Doc("TOTAL 12.40", "tesseract");
  CHECK(OcrDocument::FromJson(doc.ToJson()).value().second.empty());
  CHECK_FALSE(doc.ToJson().contains("second"));
  OcrDocument two = OcrDocument::FromJson(nlohmann::json{{"pages", {{{"text", "A"}}, {{"index", 1}, {"text", "B"}}}}})
                        .value();
  two.second = {two};
  two.second[0].engine = "paddle";
  OcrDocument back = OcrDocument::FromJson(two.ToJson()).value();
  REQUIRE(back.second.size() == 1);
  CHECK(back.second[0].engine == "paddle");
  CHECK(back.second[0].pages.size() == 2);
  OcrDocument cut = PagesOf(back, PageRange{2, 2});
  REQUIRE(cut.second.size() == 1);
  REQUIRE(cut.second[0].pages.size() == 1);
  CHECK(cut.second[0].pages[0].Text() == "B\n");

  OcrDocument failed = doc;
  failed.second_error = "paddle: timed out";
  CHECK(OcrDocument::FromJson(failed.ToJson()).value().second_error == "paddle: timed out");
}

TEST_CASE("fusion: two readings of one name or address merge: the first's spaces, the second's letters") {
  using internal::MergeReadings;
  // The second engine drops spaces and reads the letters the first blurred.
  CHECK(MergeReadings("KEDAI UBAT SEJAHTFRA SDN BHD", "KEDAIUBATSEJAHTERASDNBHD") ==
        std::optional<std::string>("KEDAI UBAT SEJAHTERA SDN BHD"));
  // A letter the first dropped is the second's; one the second dropped stays.
  CHECK(MergeReadings("KEDAI UBAT SEJAHTRA", "KEDAIUBATSEJAHTERA").value() == "KEDAI UBAT SEJAHTERA");
  CHECK(MergeReadings("KEDAI UBAT SEJAHTERA", "KEDAIUBATSEJHTERA").value() == "KEDAI UBAT SEJAHTERA");
  // A letter against a digit: the word around it decides, either way.
  CHECK(MergeReadings("PASAR BORONG", "PASARB0RONG").value() == "PASAR BORONG");
  CHECK(MergeReadings("PASAR B0RONG", "PASARBORONG").value() == "PASAR BORONG");
  CHECK(MergeReadings("NO 12, JALAN MAWAR", "NO1Z,JALANMAWAR").value() == "NO 12, JALAN MAWAR");
  // A sign against a digit stands; an I against an l is the first's.
  CHECK(MergeReadings("NO 3 & 5, JALAN MAWAR", "NO385,JALANMAWAR").value() == "NO 3 & 5, JALAN MAWAR");
  CHECK(MergeReadings("No 3, Jln Mawar", "No3,JInMawar").value() == "No 3, Jln Mawar");
  // A known word of the first stands against the second's slip.
  CHECK(MergeReadings("TAMAN MAWAR", "TANANMAWAR").value() == "TAMAN MAWAR");
  CHECK(MergeReadings("TAMAN MAWAR", "TAMAANMAWAR").value() == "TAMAN MAWAR");
  // What the second read before or after the field is not the field's.
  CHECK(MergeReadings("NO 12, JALAN MAWAR 3", "SDNBHD NO12,JALANMAWAR3 TEL0312345678").value() ==
        "NO 12, JALAN MAWAR 3");
  // Two different lines, an empty reading, or text too long: no merge.
  CHECK_FALSE(MergeReadings("KEDAI RUNCIT", "KEDAIUBATSEJAHTERA"));
  CHECK_FALSE(MergeReadings("KEDAI RUNCIT", ""));
  const std::string long_text(internal::kMergeMaxChars + 1, 'A');
  CHECK_FALSE(MergeReadings(long_text, long_text));

  ReceiptFields a, b;
  a.provider_name = {"KEDAI UBAT SEJAHTFRA", 0.6, "ocr"};
  b.provider_name = {"KEDAIUBATSEJAHTERA", 0.7, "ocr"};
  a.provider_address = {"NO 12, JALAN MAWAR, 43000 KAJANG", 0.6, "ocr"};
  b.provider_address = {"NO12,JALANMAWAR,43000KAJANG", 0.8, "ocr"};
  ReceiptFields f = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(f.provider_name.value == "KEDAI UBAT SEJAHTERA");
  CHECK(f.provider_name.confidence == doctest::Approx(0.7));
  CHECK(Has(f.notes, "provider name: tesseract's and paddle's readings merged"));
  // Alike but for spaces: the first's text, surer.
  CHECK(f.provider_address.value == "NO 12, JALAN MAWAR, 43000 KAJANG");
  CHECK(f.provider_address.confidence == doctest::Approx(0.9));
}

TEST_CASE("extract: an address's one-letter and case slips are mended, real words stand") {
  using internal::TidyAddressWords;
  CHECK(TidyAddressWords("52100 KUALA LUMFUR.") == "52100 KUALA LUMPUR.");
  CHECK(TidyAddressWords("56000 Kuala Lunpur, Selangcr") == "56000 Kuala Lumpur, Selangor");
  CHECK(TidyAddressWords("BANCAR BARU") == "BANDAR BARU");
  CHECK(TidyAddressWords("No 3, JIn Mawar, 81750 MASAl") == "No 3, Jln Mawar, 81750 MASAI");
  // Words with a real neighbour one letter away, a capital I starting a
  // word, known words and short words stand.
  CHECK(TidyAddressWords("LAMAN RIMBUNAN, JALAN UTARA, PULAI") == "LAMAN RIMBUNAN, JALAN UTARA, PULAI");
  CHECK(TidyAddressWords("Jalan Ibrahim, PENANG, KL") == "Jalan Ibrahim, PENANG, KL");
  CHECK(TidyAddressWords("") == "");
}

TEST_CASE("extract: an address's floor ordinals, place names, split words, & and zeros in words are mended") {
  using internal::TidyAddressWords;
  // The ordinal's suffix says which digit was read as a letter; only
  // before a floor word.
  CHECK(TidyAddressWords("SRD FLR, WISMA ANGKASA") == "3RD FLR, WISMA ANGKASA");
  CHECK(TidyAddressWords("ZND Floor, Menara Hijau") == "2ND Floor, Menara Hijau");
  CHECK(TidyAddressWords("GTH FLOOR") == "6TH FLOOR");
  CHECK(TidyAddressWords("SRD AVENUE, BTH STREET") == "SRD AVENUE, BTH STREET");
  // Two-word place names one edit off, in the text's case; a word alone
  // too short to tell ("ALAN") is mended only next to its partner.
  CHECK(TidyAddressWords("40000 Shah Alan, Selangor") == "40000 Shah Alam, Selangor");
  CHECK(TidyAddressWords("40000 SHAT ALAM") == "40000 SHAH ALAM");
  CHECK(TidyAddressWords("40000 SHAH ALAMI, SELANGOR") == "40000 SHAH ALAM, SELANGOR");
  CHECK(TidyAddressWords("43300 SERI KENBANGAN") == "43300 SERI KEMBANGAN");
  CHECK(TidyAddressWords("40170 SETIA ALAM, JALAN ALAN") == "40170 SETIA ALAM, JALAN ALAN");
  CHECK(TidyAddressWords("47400 PETALING JAYA") == "47400 PETALING JAYA");
  // More common words one letter off; a word split by a stray space.
  CHECK(TidyAddressWords("Jalan Temenggurg 3") == "Jalan Temenggung 3");
  CHECK(TidyAddressWords("KAWASAN PERINDUS TRIAN MAJU") == "KAWASAN PERINDUSTRIAN MAJU");
  CHECK(TidyAddressWords("JALAN BATU TIGA") == "JALAN BATU TIGA");
  // An & spaced on one side only gets both; one spaced on neither stands.
  CHECK(TidyAddressWords("NO 7& 9, JALAN MAWAR") == "NO 7 & 9, JALAN MAWAR");
  CHECK(TidyAddressWords("NO 7 &9") == "NO 7 & 9");
  CHECK(TidyAddressWords("NO. 7G&9G") == "NO. 7G&9G");
  // A zero between letters is an O; codes of letters and digits stand.
  CHECK(TidyAddressWords("L0T 12, Jalan B0la") == "LOT 12, Jalan Bola");
  CHECK(TidyAddressWords("SEKSYEN U13, PJU6A, SS21/39") == "SEKSYEN U13, PJU6A, SS21/39");
}

TEST_CASE("extract: an address's $ read for S and section codes with a digit read as a letter are mended") {
  using internal::TidyAddressWords;
  // A $ (or a run of them) starting a word is an S: addresses hold no money.
  CHECK(TidyAddressWords("Lot $12, Plaza Mawar") == "Lot S12, Plaza Mawar");
  CHECK(TidyAddressWords("JALAN $$2/7, 47300 PETALING JAYA") == "JALAN SS2/7, 47300 PETALING JAYA");
  CHECK(TidyAddressWords("NO 4 $ 6, JALAN A1$") == "NO 4 $ 6, JALAN A1$");
  CHECK(TidyAddressWords("BANDAR BARU $1750 JOHOR") == "BANDAR BARU $1750 JOHOR");
  // A section code's number with a digit read as a letter.
  CHECK(TidyAddressWords("JALAN MAWAR UL7/K, SEKSYEN UL7") == "JALAN MAWAR U17/K, SEKSYEN U17");
  CHECK(TidyAddressWords("Jalan Bulan US/KS, Seksyen US,") == "Jalan Bulan U5/KS, Seksyen U5,");
  CHECK(TidyAddressWords("JALAN PJUGA/2, JALAN PJSI0") == "JALAN PJU6A/2, JALAN PJS10");
  CHECK(TidyAddressWords("JALAN USJ 9/5B, JALAN SSI/4") == "JALAN USJ 9/5B, JALAN SS1/4");
  // U and SS begin words: with no real digit, no / after and no section
  // word before, they stand; so do codes already right and longer words.
  CHECK(TidyAddressWords("BLOK US, MENARA UOB, SSO PLAZA") == "BLOK US, MENARA UOB, SSO PLAZA");
  CHECK(TidyAddressWords("JALAN U13/BG, SS21, USJ2, PJU1A") == "JALAN U13/BG, SS21, USJ2, PJU1A");
  CHECK(TidyAddressWords("USAHA, SSLOT, UOBSIS") == "USAHA, SSLOT, UOBSIS");
  // SS's second S read as a 5 or an 8, before a /.
  CHECK(TidyAddressWords("Jalan S517/12, Jalan S83/1") == "Jalan SS17/12, Jalan SS3/1");
  // Without the / it may be anything; other letters are not SS.
  CHECK(TidyAddressWords("Blok S517, Jalan T517/12, Jalan S5/1") == "Blok S517, Jalan T517/12, Jalan S5/1");
}

namespace {

// A one-page reading whose lines have boxes, one under another.
OcrDocument Boxed(const std::vector<std::string>& lines, const std::string& engine) {
  nlohmann::json page{{"index", 0}, {"width", 400}, {"height", 40 * static_cast<int>(lines.size())}};
  page["lines"] = nlohmann::json::array();
  for (size_t i = 0; i < lines.size(); ++i) {
    page["lines"].push_back({{"text", lines[i]}, {"confidence", 0.95}, {"box", {10, 40 * i, 300, 20}}});
  }
  OcrDocument d = OcrDocument::FromJson(nlohmann::json{{"pages", {page}}}).value();
  d.engine = engine;
  return d;
}

}  // namespace

TEST_CASE("fusion: an unsure receipt number's line is read again, and the second engine's alike reading confirms it") {
  // No labelled number: the till's transaction number on the date line,
  // kept below the threshold.
  const std::vector<std::string> text = {"KEDAI UBAT SEJAHTERA SDN BHD", "NO 12, JALAN MAWAR 3,",
                                         "43000 KAJANG, SELANGOR.", "PANADOL 10S 1 12.50", "TOTAL 12.50",
                                         "CASH 20.00", "CHANGE 7.50", "05-03-19 14:03 ST02 T1 R0O0123456"};
  OcrDocument doc = Boxed(text, "tesseract");
  ExtractConfig config;
  REQUIRE_FALSE(FirstReadingUnsettled(doc, config, kToday));
  ReceiptFields alone = ExtractReceiptReadings(doc, kToday, kThreshold);
  CHECK(alone.receipt_number.value == "R000123456");
  CHECK(alone.receipt_number.confidence < kThreshold);
  CHECK(NumberLine(doc, "R000123456") == std::pair<size_t, size_t>{0, 7});
  CHECK_FALSE(NumberLine(doc, "1234").has_value());  // too short to look for
  SecondReading h = SecondReadingFor(doc, "unsettled+header", config, kToday);
  CHECK(h.lines == std::vector<std::vector<int>>{{0, 1, 2, 7}});

  // The second engine's reading of those lines, each with its line's box.
  auto again = [&](const std::string& number_line) {
    OcrDocument lines = Boxed({"KEDAI UBAT SEJAHTERA SDN BHD", "NO 12, JALAN MAWAR 3,", "43000 KAJANG, SELANGOR.",
                               number_line},
                              "paddle");
    lines.pages[0].lines[3].box = doc.pages[0].lines[7].box;
    lines.scope = "lines";
    OcrDocument both = doc;
    both.second = {lines};
    return ExtractReceiptReadings(both, kToday, kThreshold);
  };
  ReceiptFields agreed = again("05-03-19 14:03 ST02 T1 R000123456");
  CHECK(agreed.receipt_number.value == "R000123456");
  CHECK(agreed.receipt_number.confidence >= kThreshold);
  CHECK(agreed.provider_address.value == "NO 12, JALAN MAWAR 3, 43000 KAJANG, SELANGOR.");
  // Another number there, or none: the first reading's, still unsure.
  for (const char* other : {"05-03-19 14:03 ST02 T1 R000128456", "05-03-19 14:03 ST02"}) {
    ReceiptFields f = again(other);
    CHECK(f.receipt_number.value == "R000123456");
    CHECK(f.receipt_number.confidence < kThreshold);
  }
  // A labelled number the first reading is sure of: no line of it.
  std::vector<std::string> labelled = text;
  labelled.back() = "Invoice No : INV-004211 Date : 05/03/2019";
  OcrDocument sure = Boxed(labelled, "tesseract");
  CHECK(SecondReadingFor(sure, "unsettled+header", config, kToday).lines == std::vector<std::vector<int>>{{0, 1, 2}});
}

namespace {

// The receipt number fused from a receipt paddle read as `text` (its last
// line the till's) and Tesseract alike but for that line, read `last`.
Field FusedTillNumber(const std::vector<std::string>& text, const std::string& last) {
  OcrDocument doc = Boxed(text, "tesseract");
  doc.pages[0].lines.back().text = last;
  doc.second = {Boxed(text, "paddle")};
  return ExtractReceiptReadings(doc, kToday, kThreshold).receipt_number;
}

}  // namespace

TEST_CASE("fusion: a receipt number one engine found is confirmed by the same letters and digits in the other's text") {
  // Tesseract misread the date on the till's line, so found no number
  // there; paddle read the line whole. Both read the number alike.
  const std::vector<std::string> text = {"KLINIK MAWAR", "CONSULTATION 30.00", "TOTAL 30.00", "Date: 12/01/2019",
                                         "12-01-19 09:41 T1 R000123457"};
  // Tesseract's reading of the till's line, and whether it confirms
  // paddle's R000123457: the date misread and the number alike, yes; the
  // number read otherwise, no; its R lost (so Tesseract found no number),
  // yes, by its digits; other digits, no.
  const std::pair<const char*, bool> readings[] = {
      {"da. 01-19 09:41 T1 R000123457", true},
      {"da. 01-19 09:41 T1 R0001Z3457", false},
      {"12-01-19 09:41 T1 000123457", true},
      {"12-01-19 09:41 T1 000128457", false},
  };
  for (const auto& reading : readings) {
    // A named variable, not a structured binding: clang 14 cannot capture a
    // binding in CAPTURE's lambda.
    const char* tesseract = reading.first;
    CAPTURE(tesseract);
    Field f = FusedTillNumber(text, tesseract);
    CHECK(f.value == "R000123457");
    CHECK((f.confidence >= kThreshold) == reading.second);
  }
}

TEST_CASE("extract: two readings of a receipt number that differ only by letters in front") {
  using internal::SameNumberButPrefix;
  // Capitals one reading lost: the longer is the number, whichever comes first.
  CHECK(SameNumberButPrefix("CS00012013", "00012013") == std::optional<std::string>("CS00012013"));
  CHECK(SameNumberButPrefix("00012013", "CS-00012013") == std::optional<std::string>("CS-00012013"));
  // Lower-case letters in front are junk: the shorter is the number.
  CHECK(SameNumberButPrefix("sKSB80051978", "KSB80051978") == std::optional<std::string>("KSB80051978"));
  CHECK(SameNumberButPrefix("KSB80051978", "sKSB80051978") == std::optional<std::string>("KSB80051978"));
  // Alike on letters and digits: the first as given.
  CHECK(SameNumberButPrefix("INV-2019-0042", "INV20190042") == std::optional<std::string>("INV-2019-0042"));
  // A letter read for a digit, mixed case in front, or another number: no agreement.
  CHECK_FALSE(SameNumberButPrefix("G03-1220615", "003-1220615"));
  CHECK_FALSE(SameNumberButPrefix("Cs00012013", "00012013"));
  CHECK_FALSE(SameNumberButPrefix("CS00012013", "00012014"));
  CHECK_FALSE(SameNumberButPrefix("CS", ""));

  using internal::NumberWithoutLetterPrefix;
  CHECK(NumberWithoutLetterPrefix("R000110133") == std::optional<std::string>("000110133"));
  CHECK(NumberWithoutLetterPrefix("CS-104522") == std::optional<std::string>("-104522"));
  CHECK_FALSE(NumberWithoutLetterPrefix("000110133"));     // nothing in front
  CHECK_FALSE(NumberWithoutLetterPrefix("INV12345"));      // too little left
  CHECK_FALSE(NumberWithoutLetterPrefix("ABCD123456"));    // more than three letters: a word
  CHECK_FALSE(NumberWithoutLetterPrefix("R0A0B0C0D0"));    // mostly letters left
}

TEST_CASE("fusion: receipt numbers that differ only by letters in front agree") {
  ReceiptFields a, b;
  a.receipt_number = {"00013118", 0.8, "ocr"};
  b.receipt_number = {"CS00013118", 0.8, "ocr"};
  ReceiptFields f = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(f.receipt_number.value == "CS00013118");
  CHECK(f.receipt_number.confidence == doctest::Approx(0.9));
  CHECK_FALSE(Has(f.problems, "receipt number"));
  // Junk in front of the first engine's reading: the second's stands.
  a.receipt_number.value = "sKSB80051978";
  b.receipt_number.value = "KSB80051978";
  CHECK(FuseReceipts(a, b, kNames, kThreshold).receipt_number.value == "KSB80051978");
  // A digit read otherwise is still a disagreement, below the threshold.
  a.receipt_number.value = "G03-1220615";
  b.receipt_number.value = "003-1220615";
  ReceiptFields g = FuseReceipts(a, b, kNames, kThreshold);
  CHECK(g.receipt_number.confidence < kThreshold);
  CHECK(Has(g.problems, "receipt number: tesseract read G03-1220615, paddle 003-1220615"));
}

TEST_CASE("extract: receipt-number labels with an L read as an I or a 1, and TaxInv, are read") {
  auto number = [](const std::string& line) {
    return ExtractReceipt(Boxed({"KLINIK MAWAR", line, "TOTAL 30.00"}, "tesseract"), kToday).receipt_number.value;
  };
  CHECK(number("BILI. N0: 00015047") == "00015047");
  CHECK(number("Bi11#: V031-551345") == "V031-551345");
  CHECK(number("St:8541 Ctr3 TaxInv:11612") == "11612");
  CHECK(number("BILIK 3 KLINIK 00015047") == "");
}

TEST_CASE("extract: a till's unlabelled transaction number on the line of the date and time") {
  auto number = [](const std::vector<std::string>& lines) {
    return ExtractReceipt(Boxed(lines, "tesseract"), kToday).receipt_number;
  };
  Field f = number({"KLINIK MAWAR", "TOTAL 30.00", "12/01/2019 09:41 POS3 C07 S00123457"});
  CHECK(f.value == "S00123457");
  CHECK(f.confidence == doctest::Approx(0.8));
  // A labelled number wins; without a time, a date alone, or a token of
  // digits only, none.
  CHECK(number({"KLINIK MAWAR", "Receipt No: 88812", "TOTAL 30.00", "12/01/2019 09:41 T1 R000123456"}).value ==
        "88812");
  CHECK_FALSE(number({"KLINIK MAWAR", "TOTAL 30.00", "12/01/2019 POS3 R000123456"}).present());
  CHECK_FALSE(number({"KLINIK MAWAR", "TOTAL 30.00", "12/01/2019 09:41 000123456"}).present());
  CHECK_FALSE(number({"KLINIK MAWAR", "TOTAL 30.00", "09:41 T1 R000123456"}).present());
}

TEST_CASE("fusion: the header lines, and what each second_reading mode reads of a settled or unsettled receipt") {
  const std::vector<std::string> head = {"KEDAI UBAT SEJAHTFRA SDN BHD", "NO 12, JALAN MAWAR 3,",
                                         "43000 KAJANG, SELANGOR."};
  std::vector<std::string> settled = head;
  for (const char* l : {"Invoice No : INV-0042", "Date : 05/03/2019", "PANADOL 10S 1 12.50", "VITAMIN C 1 30.00",
                        "SUBTOTAL 42.50", "TOTAL 42.50", "CASH 50.00", "CHANGE 7.50"}) {
    settled.push_back(l);
  }
  OcrDocument doc = Boxed(settled, "tesseract");
  CHECK(HeaderLines(doc) == std::vector<std::vector<int>>{{0, 1, 2}});
  // An amount ends the header too, and a line without a box is not read again.
  OcrDocument priced = Boxed({"KLINIK MAWAR", "CONSULTATION 30.00", "TOTAL 30.00"}, "tesseract");
  CHECK(HeaderLines(priced) == std::vector<std::vector<int>>{{0}});
  priced.pages[0].lines[0].box = {};
  CHECK(HeaderLines(priced) == std::vector<std::vector<int>>{{}});

  ExtractConfig config;
  REQUIRE_FALSE(FirstReadingUnsettled(doc, config, kToday));
  CHECK(SecondReadingFor(doc, "always", config, kToday).whole);
  CHECK_FALSE(SecondReadingFor(doc, "unsettled", config, kToday).any());
  SecondReading h = SecondReadingFor(doc, "unsettled+header", config, kToday);
  CHECK_FALSE(h.whole);
  CHECK(h.lines == HeaderLines(doc));
  // Without a total the receipt is unsettled: every mode reads it whole.
  OcrDocument open = Boxed(head, "tesseract");
  for (const char* mode : {"always", "unsettled", "unsettled+header"}) {
    CHECK(SecondReadingFor(open, mode, config, kToday).whole);
  }
  // Read whole, an unsettled receipt's rows that the first engine read
  // surely below its first 8 lines and that settle no field are left to
  // it: no digit, or no amount, date, receipt number or total's label.
  // "always" reads everything.
  std::vector<std::string> unsettled = head;
  for (const char* l : {"CASHIER ANITA", "MEMBER PRICE", "Tel: 03-4100 2200", "VITAMIN C", "PANADOL 10S",
                        "Receipt No: 10045", "PANADOL 10S 1 12.50", "TOTAL", "THANK YOU", "05/03/2019",
                        "Total Qty 2", "Total Sales (Inclusive of GST) 64. a", "PLEASE COME AGAIN"}) {
    unsettled.push_back(l);
  }
  OcrDocument faint = Boxed(unsettled, "tesseract");
  faint.pages[0].lines[10].confidence = 0.7;  // "TOTAL": an amount beside it unread, perhaps
  faint.pages[0].lines[11].text = " ";        // a blank line is not one of them
  REQUIRE(FirstReadingUnsettled(faint, config, kToday));
  CHECK(SecondReadingFor(faint, "always", config, kToday).known.empty());
  for (const char* mode : {"unsettled", "unsettled+header"}) {
    SecondReading r = SecondReadingFor(faint, mode, config, kToday);
    CHECK(r.whole);
    REQUIRE(r.known.size() == 1);
    const KnownPage& k = r.known[0];
    CHECK(k.width == 400);
    CHECK(k.read_above == 40 * 7 + 20);  // the bottom of the 8th line
    std::string sure;
    for (const auto& l : k.lines) sure += l.sure ? '+' : '-';
    // 15 lines with text; not sure: the receipt number, the item's amount,
    // the faint TOTAL, the date and a total whose amount was misread. The
    // address's digits and the item count settle nothing.
    CHECK(sure == "++++++++----+-+");
  }

  // A reading of the header lines only: its name and address count, and a
  // date it holds does not (the settled first reading has the date).
  OcrDocument lines = Boxed({"KEDAIUBATSEJAHTERASDNBHD", "NO12,JALANMAWAR3,", "43000KAJANG,SELANGOR.",
                             "Date : 06/03/2019"},
                            "paddle");
  lines.scope = "lines";
  doc.second = {lines};
  ReceiptFields f = ExtractReceiptReadings(doc, kToday, kThreshold);
  CHECK(f.provider_name.value == "KEDAI UBAT SEJAHTERA SDN BHD");
  CHECK(f.service_date.value == "2019-03-05");
  CHECK(f.problems.empty());
  CHECK(f.conflicts.empty());
  // The same lines as a whole reading: the dates disagree.
  doc.second[0].scope.clear();
  ReceiptFields w = ExtractReceiptReadings(doc, kToday, kThreshold);
  CHECK((Has(w.problems, "service date: tesseract read 2019-03-05, paddle 2019-03-06") ||
         Has(w.conflicts, "service date: tesseract read 2019-03-05, paddle 2019-03-06")));
}
