#include "ncbocr/extract.h"
#include "ncbocr/extract_stage.h"

#include <doctest/doctest.h>

#include "extract/extract_internal.h"
#include "test_util.h"

using namespace ncbocr;

namespace {

const Date kToday{2024, 6, 30};

OcrDocument Doc(const std::string& text) {
  return OcrDocument::FromJson(nlohmann::json{{"pages", {{{"text", text}}}}}).value();
}

const char* const kReceipt = R"(tan ah kow
KEDAI UBAT SEJAHTERA SDN BHD (123456-X)
GST ID : 000123456789
NO 12, JALAN MAWAR 3,
TAMAN BUNGA RAYA,
43000 KAJANG,
SELANGOR.
TEL: 03-8736 1234
TAX INVOICE
Invoice No : INV-2019-0042
Date : 05/03/2019 10:15 AM
PANADOL 10S 1 12.50
VITAMIN C 1 30.00
SUBTOTAL 42.50
SST 6% 2.55
ROUNDING ADJ 0.00
TOTAL 45.05
CASH 50.00
CHANGE 4.95
THANK YOU
)";

}  // namespace

TEST_CASE("extract: a complete receipt, checked by its own arithmetic") {
  ReceiptFields r = ExtractReceipt(Doc(kReceipt), kToday);
  CHECK(r.provider_name.value == "KEDAI UBAT SEJAHTERA SDN BHD");
  CHECK(NormalizeForMatch(r.provider_address.value) ==
        "NO 12 JALAN MAWAR 3 TAMAN BUNGA RAYA 43000 KAJANG SELANGOR");
  CHECK(r.service_date.value == "2019-03-05");
  CHECK(r.receipt_number.value == "INV-2019-0042");
  CHECK(r.total_amount.value == "45.05");
  CHECK(r.total_amount.confidence >= 0.9);
  CHECK(r.sst_amount.value == "2.55");
  CHECK(r.subtotal == 4250);
  CHECK(r.cash == 5000);
  CHECK(r.change == 495);
  REQUIRE(r.items.size() == 2);
  CHECK(r.items[0].amount == "12.50");
  CHECK(r.items[1].description.find("VITAMIN C") != std::string::npos);
  CHECK(r.currency.value == "MYR");
}

TEST_CASE("extract: rounded total beats the unrounded one; cash - change confirms") {
  ReceiptFields r = ExtractReceipt(Doc(R"(SYARIKAT MAJU JAYA
LOT 5, JALAN BESAR, 81100 JOHOR BAHRU, JOHOR
Bill No: 778812
Date: 25 Dec 2018
Total : 80.93
Rounding Adjustment : 0.02
Rounded Total (RM): 80.95
Cash 100.00
Change 19.05
)"), kToday);
  CHECK(r.total_amount.value == "80.95");
  CHECK(r.total_amount.confidence >= 0.9);
  CHECK(r.receipt_number.value == "778812");
  CHECK(r.service_date.value == "2018-12-25");
}

TEST_CASE("extract: subtotal is not the total; tax lines are not the total") {
  ReceiptFields r = ExtractReceipt(Doc(R"(ABC TRADING
SUB TOTAL 100.00
GST 6% 6.00
TOTAL INCL GST 106.00
)"), kToday);
  CHECK(r.total_amount.value == "106.00");
  CHECK(r.gst_amount.value == "6.00");
}

TEST_CASE("extract: a total nobody labelled is a guess with low confidence") {
  ReceiptFields r = ExtractReceipt(Doc("SOME SHOP\nITEM A 3.00\nITEM B 4.00\n"), kToday);
  CHECK(r.total_amount.confidence < 0.6);
}

TEST_CASE("extract: disagreeing arithmetic is reported") {
  ReceiptFields r = ExtractReceipt(Doc("SHOP ENTERPRISE\nTOTAL 50.00\nCASH 100.00\nCHANGE 40.00\n"), kToday);
  CHECK(r.total_amount.value == "50.00");
  bool said = false;
  for (const auto& p : r.problems) said |= p.find("does not equal the total") != std::string::npos;
  CHECK(said);
}

TEST_CASE("extract: receipt number labels") {
  auto num = [](const std::string& line) {
    return ExtractReceipt(Doc("SHOP SDN BHD\n" + line + "\n"), kToday).receipt_number.value;
  };
  CHECK(num("Receipt No: R00012345") == "R00012345");
  CHECK(num("No. Resit : 000451") == "000451");
  CHECK(num("Doc No : TD01167104") == "TD01167104");
  CHECK(num("Inv# 88231") == "88231");
  CHECK(num("CASH BILL NO: CS10004512") == "CS10004512");
  CHECK(num("Document No.:") == "");
  CHECK(num("Receipt No: KS - 2026 -008812") == "KS-2026-008812");
  CHECK(num("Bill No: PH / 24 / 113908") == "PH/24/113908");
}

TEST_CASE("extract: OCR digit confusions inside numbers are fixed") {
  CHECK(internal::FixDigitConfusions("25/12/2O18") == "25/12/2018");
  CHECK(internal::FixDigitConfusions("TOTAL l0.00") == "TOTAL l0.00");  // no digit left of it
  CHECK(internal::FixDigitConfusions("1O.00") == "10.00");
  CHECK(internal::FixDigitConfusions("TOTAL") == "TOTAL");
}

TEST_CASE("extract: lines split by OCR on one row are joined by their boxes") {
  nlohmann::json page = {
      {"lines",
       {{{"text", "TOTAL"}, {"confidence", 0.9}, {"box", {10, 100, 60, 20}},
         {"words", {{{"text", "TOTAL"}, {"confidence", 0.9}, {"box", {10, 100, 60, 20}}}}}},
        {{"text", "12.00"}, {"confidence", 0.9}, {"box", {300, 102, 60, 20}},
         {"words", {{{"text", "12.00"}, {"confidence", 0.9}, {"box", {300, 102, 60, 20}}}}}}}}};
  OcrDocument d = OcrDocument::FromJson(nlohmann::json{{"pages", {page}}}).value();
  auto lines = internal::BuildLines(d);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].text == "TOTAL 12.00");
}

TEST_CASE("extract: member fields from English, Malay and Chinese emails") {
  EmailInfo e;
  e.subject = "Claim submission";
  e.text = "Hi,\nPlease process my claim. Member ID: M22222\nPolicy No: POL-7788-01\nName: Ahmad bin Ali\n"
           "Amount: RM 45.05\n\nRegards,\nAhmad\nTel: 012-3456789\n";
  EmailFields f = ExtractEmail(e, kToday);
  CHECK(f.member_id.value == "M22222");
  CHECK(f.policy_number.value == "POL-7788-01");
  CHECK(f.member_name.value == "Ahmad bin Ali");
  CHECK(f.total == 4505);

  EmailInfo m;
  m.text = "Salam, nombor ahli saya M22222. Tarikh rawatan 5 Mac 2019. Terima kasih";
  EmailFields mf = ExtractEmail(m, kToday);
  CHECK(mf.member_id.value == "M22222");
  REQUIRE(mf.service_date.has_value());
  CHECK(mf.service_date->Iso() == "2019-03-05");

  EmailInfo c;
  c.text = "你好，我的会员号是 A1234567，保单号：P99887766，请帮我claim这张收据。谢谢";
  EmailFields cf = ExtractEmail(c, kToday);
  CHECK(cf.member_id.value == "A1234567");
  CHECK(cf.policy_number.value == "P99887766");
}

TEST_CASE("extract: signature phone numbers are not ids; own text beats quoted text") {
  EmailInfo e;
  e.text = "Please see attached.\n\n--\nJohn Tan\nMember hotline 1300-88-1234\nMobile: 012-345 6789\n";
  EmailFields f = ExtractEmail(e, kToday);
  CHECK_FALSE(f.member_id.present());

  EmailInfo q;
  q.text = "My member no is B7654321.\n\nOn Mon, 1 Jul 2019 at 10:00, Clerk <c@tpa.my> wrote:\n> Member ID: Z0000001\n";
  EmailFields qf = ExtractEmail(q, kToday);
  CHECK(qf.member_id.value == "B7654321");

  EmailInfo fw;
  fw.text = "FYI\n---------- Forwarded message ---------\nFrom: Siti\nMember ID: S1112223\n";
  CHECK(ExtractEmail(fw, kToday).member_id.value == "S1112223");
}

TEST_CASE("extract: routing submits only complete, confident claims") {
  ExtractConfig cfg;
  ExtractOptions opt;
  opt.today = kToday;
  opt.check_service_age = false;
  opt.claim_id = "c1";
  EmailInfo e;
  e.text = "Member ID: M22222";
  Extraction x = ExtractClaim(Doc(kReceipt), e, cfg, opt);
  CHECK(x.decision == "submit");
  CHECK(x.confidence >= 0.9);
  CHECK(x.fields["member_id"].value == "M22222");

  // Without an email there is no member: review, saying so.
  Extraction n = ExtractClaim(Doc(kReceipt), std::nullopt, cfg, opt);
  CHECK(n.decision == "review");
  bool said = false;
  for (const auto& r : n.reasons) said |= r == "missing member id or policy number";
  CHECK(said);

  // The email contradicts the receipt's total.
  EmailInfo bad;
  bad.text = "Member ID: M22222\nTotal: RM 54.05";
  Extraction b = ExtractClaim(Doc(kReceipt), bad, cfg, opt);
  CHECK(b.decision == "review");
  CHECK(b.reasons[0].find("email states total 54.05") != std::string::npos);

  // Agreement marks the source as both.
  EmailInfo good;
  good.text = "Member ID: M22222\nTotal: RM 45.05";
  Extraction g = ExtractClaim(Doc(kReceipt), good, cfg, opt);
  CHECK(g.fields["total_amount"].source == "both");

  // An old service date goes to review when the age check is on.
  ExtractOptions aged = opt;
  aged.check_service_age = true;
  CHECK(ExtractClaim(Doc(kReceipt), e, cfg, aged).decision == "review");

  // Receipt number may be optional by configuration.
  ExtractConfig lax;
  lax.allow_empty_invoice_number = true;
  std::string no_number = kReceipt;
  no_number.replace(no_number.find("Invoice No : INV-2019-0042"), 26, "Cashier : 01");
  CHECK(ExtractClaim(Doc(no_number), e, cfg, opt).decision == "review");
  CHECK(ExtractClaim(Doc(no_number), e, lax, opt).decision == "submit");
}

TEST_CASE("extract: the review sample is reproducible and near its rate") {
  CHECK(SampleValue("abc") == SampleValue("abc"));
  int sampled = 0;
  for (int i = 0; i < 2000; ++i) sampled += SampleValue("claim-" + std::to_string(i)) < 0.1;
  CHECK(sampled > 140);
  CHECK(sampled < 260);
  ExtractConfig cfg;
  cfg.review_sample_rate = 1.0;
  ExtractOptions opt;
  opt.today = kToday;
  opt.check_service_age = false;
  EmailInfo e;
  e.text = "Member ID: M22222";
  Extraction x = ExtractClaim(Doc(kReceipt), e, cfg, opt);
  CHECK(x.decision == "review");
  CHECK(x.reasons.back().find("random quality-check sample") != std::string::npos);
}

TEST_CASE("extract: JSON has every field with value, confidence and source") {
  ExtractOptions opt;
  opt.today = kToday;
  Extraction x = ExtractClaim(Doc(kReceipt), std::nullopt, ExtractConfig{}, opt);
  nlohmann::json j = x.ToJson();
  for (const char* k : {"member_id", "member_name", "policy_number", "provider_name", "provider_address",
                        "service_date", "receipt_number", "total_amount", "currency", "sst_amount",
                        "gst_amount", "itemized_charges"}) {
    INFO(k);
    REQUIRE(j["fields"].contains(k));
    CHECK(j["fields"][k].contains("value"));
    CHECK(j["fields"][k].contains("confidence"));
    CHECK(j["fields"][k].contains("source"));
  }
  CHECK(j["fields"]["total_amount"]["value"] == "45.05");
  CHECK(j["fields"]["member_id"]["value"].is_null());
  CHECK(j["decision"] == "review");
  CHECK(j["reasons"].is_array());
}

TEST_CASE("extract stage: ocred claims go to ready or review with extract.json") {
  testing::TempDir t;
  Config config;
  config.extract.max_service_age_days = 100000;  // the sample receipt is from 2019
  Spool spool = *Spool::Open(t.path());
  Clock clock;
  StageContext ctx{config, spool, NullLogger(), clock, "extract"};
  Claim a = testing::PutClaim(spool, ClaimState::kOcred);
  Claim b = testing::PutClaim(spool, ClaimState::kOcred, "other");
  std::string ocr = Doc(kReceipt).ToJson().dump();
  REQUIRE(spool.WriteClaimFile(a, "ocr.json", ocr).ok());
  REQUIRE(spool.WriteClaimFile(b, "ocr.json", ocr).ok());
  EmailInfo e;
  e.text = "Member ID: M22222";
  REQUIRE(spool.WriteClaimFile(a, "email.json", e.ToJson().dump()).ok());
  StageReport r = RunExtractStage(ctx);
  CHECK(r.status.ok());
  Claim la = *spool.Load(a.id);
  CHECK(la.state == ClaimState::kReady);
  CHECK(la.confidence.has_value());
  CHECK(spool.HasClaimFile(la, "extract.json"));
  Claim lb = *spool.Load(b.id);
  CHECK(lb.state == ClaimState::kReview);
  bool said = false;
  for (const auto& rr : lb.review_reasons) said |= rr == "missing member id or policy number";
  CHECK(said);
}

TEST_CASE("extract: a subject that mentions a clinic names no provider unless it labels one") {
  EmailInfo e;
  e.subject = "Claims: clinic + pharmacy (2 receipts)";
  e.text = "Two receipts from the same day: the clinic and the pharmacy.\nMember ID: M30311\n";
  EmailFields f = ExtractEmail(e, kToday);
  CHECK(f.provider.empty());
  CHECK(f.member_id.value == "M30311");

  EmailInfo labelled;
  labelled.text = "Clinic: Klinik Sejahtera\nMember ID: M30311\n";
  CHECK(ExtractEmail(labelled, kToday).provider == "Klinik Sejahtera");

  // A sentence that merely mentions a clinic, with a colon further on.
  EmailInfo sentence;
  sentence.text = "I saw the doctor at the klinik. Please process my claim. Member: Ahmad bin Ali\n";
  CHECK(ExtractEmail(sentence, kToday).provider.empty());
}

namespace {

// A page whose lines carry words, boxes and, where given, a second reading.
OcrDocument TwoReadings(const std::vector<std::pair<std::string, std::string>>& rows, double conf = 0.9) {
  nlohmann::json lines = nlohmann::json::array();
  int y = 10;
  for (const auto& [text, alt] : rows) {
    nlohmann::json l = {{"text", text}, {"confidence", conf}, {"box", {10, y, 400, 20}},
                        {"words", {{{"text", text}, {"confidence", conf}, {"box", {10, y, 400, 20}}}}}};
    if (!alt.empty()) l["alt"] = {{"text", alt}, {"confidence", conf}};
    lines.push_back(l);
    y += 40;
  }
  return OcrDocument::FromJson(nlohmann::json{{"pages", {{{"lines", lines}}}}}).value();
}

}  // namespace

TEST_CASE("extract: a second reading of the total line, settled by cash - change") {
  ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""},
                                                {"Rounded Total (RM): 9.60", "Rounded Total (RM): 9.00"},
                                                {"CASH 10.00", "CASH 10.00"},
                                                {"CHANGE 1.00", "CHANGE 1.00"}}),
                                   kToday);
  CHECK(r.total_amount.value == "9.00");
  // Right, but the total line itself was read two ways: a clerk looks.
  CHECK(r.total_amount.confidence < 0.9);
  CHECK(r.total_amount.confidence >= 0.8);
  bool said = false;
  for (const auto& p : r.problems) said |= p.find("two readings of the total line differ") != std::string::npos;
  CHECK(said);
}

TEST_CASE("extract: money labels one letter off are still labels; real words are not") {
  CHECK(internal::RepairMoneyLabelWords("Tatal Sales (Inclusive of GST) ; 32.70") == "TOTAL Sales (Inclusive of GST) ; 32.70");
  CHECK(internal::RepairMoneyLabelWords("CHANGI 0-19 RM 20.10") == "CHANGE 0-19 RM 20.10");
  CHECK(internal::RepairMoneyLabelWords("Service Charge 2.00") == "Service Charge 2.00");
  Field t = ExtractReceipt(Doc("SHOP SDN BHD\nSub Total 31.03\nTatal Sales (Inclusive of GST) ; 32.70\nCASH : 40.00\n"
                               "Change : 7.30\n"),
                           kToday)
                .total_amount;
  CHECK(t.value == "32.70");
  CHECK(t.confidence >= 0.9);
}

TEST_CASE("extract: a payment of exactly the total witnesses it") {
  ReceiptFields once = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""}, {"Total RM 88.17", ""}}), kToday);
  ReceiptFields card = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""}, {"Total RM 88.17", ""},
                                                   {"Visa RM 88.17", "Visa RM 88.17"}}),
                                      kToday);
  ReceiptFields cash = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""}, {"Total RM 50.00", ""}, {"Cash RM 50.00", ""}}),
                                      kToday);
  CHECK(once.total_amount.confidence < 0.9);
  CHECK(card.total_amount.value == "88.17");
  CHECK(card.total_amount.confidence >= 0.9);
  CHECK(cash.total_amount.value == "50.00");
  CHECK(cash.total_amount.confidence >= 0.9);
  // A card line read two ways is no witness.
  ReceiptFields unsure = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""}, {"Total RM 88.17", ""},
                                                     {"Visa RM 88.17", "Visa RM 86.17"}}),
                                        kToday);
  CHECK(unsure.total_amount.confidence < 0.9);
}

TEST_CASE("extract: a parking machine's receipt, a coupon, a total with a letter lost") {
  // "Accepted" is what the machine took in, not the total.
  ReceiptFields p =
      ExtractReceipt(Doc("CAR PARK SDN BHD\nPay parking ticket 5.00 RM\nAnount Incl. GST 5.00 RM\n"
                         "Accepted total 10.00 RM\nChange 5.00 RM\nGST 6% 0.28 RM\n"),
                     kToday);
  CHECK(p.total_amount.value == "5.00");
  CHECK(p.cash == 1000);
  // Subtotal less a coupon is the total.
  ReceiptFields c =
      ExtractReceipt(TwoReadings({{"PIZZA SDN BHD", ""},
                                  {"Sub-Total : 21.60", "Sub-Total : 21.60"},
                                  {"Coupon Discount : 9.20", "Coupon Discount : 9.20"},
                                  {"Grand Total : 12.40", ""}}),
                     kToday);
  CHECK(c.total_amount.value == "12.40");
  CHECK(c.total_amount.confidence >= 0.9);
  bool noted = false;
  for (const auto& n : c.notes) noted |= n.find("subtotal") != std::string::npos;
  CHECK(noted);
  CHECK(internal::RepairMoneyLabelWords("Grand Tota. : 6.70") == "Grand TOTAL. : 6.70");
}

TEST_CASE("extract: totals per GST rate are parts of the bill") {
  // The items add up to the 0% part, but the bill is Total Payable.
  ReceiptFields r = ExtractReceipt(
      TwoReadings({{"BAKERY SDN BHD", ""},
                   {"WHITE BREAD 2.13 2 4.26", ""},
                   {"WHOLEMEAL 2.78 3 8.34", ""},
                   {"JUMBO 2.97 5 14.85", ""},
                   {"Total 0% supplies: 27.45", ""},
                   {"SCOTCH 3.72 2 7.44", ""},
                   {"Total 6% supplies (excl. GST): 21.84", ""},
                   {"Total 6% supplies (Inc. GST): 23.15", "Total 6% supplies (Inc. GST): 23.5"},
                   {"Total 0% supplies: 27.45", ""},
                   {"Total Payable: 50.60", "Total Payable: 50.60"}}),
      kToday);
  CHECK(r.total_amount.value == "50.60");
  // The line that prints the bill unreadable: the two parts imply it.
  ReceiptFields u = ExtractReceipt(TwoReadings({{"BAKERY SDN BHD", ""},
                                                {"Total 0% supplies: 20.67", ""},
                                                {"Total 6% supplies (Inc. GST): 73.52", ""},
                                                {"Total Payable: A", ""}}),
                                   kToday);
  CHECK(u.total_amount.value == "94.19");
  CHECK(u.total_amount.confidence < 0.9);
  // Two total lines with the same amount are not parts of the cash given.
  ReceiptFields same =
      ExtractReceipt(Doc("SHOP SDN BHD\nTotal 10.00\nSUB TOTAL 9.43\nTotal 10.00\nCash 20.00\n"), kToday);
  CHECK(same.total_amount.value == "10.00");
}

TEST_CASE("extract: a total line read two ways, settled by the rest of the receipt") {
  // Another total line read the same amount twice.
  ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""},
                                                {"Total (Excluding GST): 9.07", "Total (Excluding GST): 9.07"},
                                                {"GST payable (6%): 0.53", "GST payable (6%): 0.53"},
                                                {"Total (Inclusive of GST): 9,60", "Total (Inclusive of GST): 9.60"},
                                                {"TOTAL: 9.60", "TOTAL: 93.60"}}),
                                   kToday);
  CHECK(r.total_amount.value == "9.60");
  CHECK(r.total_amount.confidence >= 0.9);
  // Two of the receipt's sums arrive at it.
  ReceiptFields s = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""},
                                                {"Total RM Incl. of GST 14.64", "Total RM Incl. of GST 14.64"},
                                                {"Rounding Adj 0.01", "Rounding Adj 0.01"},
                                                {"Total RM 14. 85", "Total RM 14. 65"},
                                                {"Cash 50. 00", "Cash 50. 00"},
                                                {"CHANGE 35. 35", "CHANGE 35. 35"}}),
                                   kToday);
  CHECK(s.total_amount.value == "14.65");
  CHECK(s.total_amount.confidence >= 0.9);
}

TEST_CASE("extract: the receipt's own arithmetic against the total keeps a wrong one from going unreviewed") {
  auto said = [](const ReceiptFields& r, const char* what) {
    bool found = false;
    for (const auto& p : r.problems) found |= p.find(what) != std::string::npos;
    return found;
  };
  // Shapes of receipts that went to NCB with a wrong total before (dev
  // receipts read with eng+msa), each line read the same way twice.
  SUBCASE("cash - change is the rounded total") {
    ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""},
                                                  {"Total Sales (Inclusive GST) RM 22.91", "Total Sales (Inclusive GST) RM 22.91"},
                                                  {"CASH RM 50.00", "CASH RM 50.00"},
                                                  {"CHANGE RM 27.10", "CHANGE RM 27.10"}}),
                                     kToday);
    CHECK(r.total_amount.confidence <= 0.6);
    CHECK(said(r, "does not equal the total"));
  }
  SUBCASE("a card paid a sen more than the total") {
    ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""},
                                                  {"Total Sales (Inclusive GST) RM 45.34", "Total Sales (Inclusive GST) RM 45.34"},
                                                  {"CREDIT RM 45.35", "CREDIT RM 45.35"}}),
                                     kToday);
    CHECK(r.total_amount.confidence <= 0.6);
    CHECK(said(r, "by a rounding amount"));
  }
  SUBCASE("a part of the bill, with the amount payable further down") {
    ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""},
                                                  {"Total 6% supplies (excl. GST): 15.84", "Total 6% supplies (excl. GST): 15.84"},
                                                  {"GST: 0.95", "GST: 0.95"},
                                                  {"Total 6% supplies (Inc. GST): 16.79", "Total 6% supplies (Inc. GST): 16.79"},
                                                  {"Total 0% supplies: 22.90", "Total 0% supplies: 22.99"},
                                                  {"Total Payable: 39.78", "Total Payable: 39.78"}}),
                                     kToday);
    if (r.total_amount.value != "39.78") {
      CHECK(r.total_amount.confidence < 0.9);
      CHECK(said(r, "a later total line shows"));
    }
  }
  SUBCASE("all agreeing: still confident") {
    ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""},
                                                  {"TOTAL RM 22.90", "TOTAL RM 22.90"},
                                                  {"CASH RM 50.00", "CASH RM 50.00"},
                                                  {"CHANGE RM 27.10", "CHANGE RM 27.10"},
                                                  {"VISA 22.90", "VISA 22.90"}}),
                                     kToday);
    CHECK(r.total_amount.value == "22.90");
    CHECK(r.total_amount.confidence >= 0.9);
  }
}

TEST_CASE("extract: layouts of the money lines the arithmetic must see through") {
  auto total = [](const std::string& text) { return ExtractReceipt(Doc(text), kToday).total_amount; };
  // A column heading with "Amount" in it labels no amount: the item under
  // it is not the total.
  CHECK(total("SHOP SDN BHD\nItem Qty Price Amount\n(S) @15.90\nCURRY 1 14.73 14.73\nGross Amt 47.80\n"
              "Svc Chg 2.87\nGST (6%) 2.86\nNet Amt : 53.55\n").value == "53.55");
  // Service charge and GST both between the subtotal and the total.
  Field f = total("SHOP SDN BHD\nSubtotal 62.55\n10% Srv Chg 6.25\n6% GST 4.13\nTotal: 72.93\n");
  CHECK(f.value == "72.93");
  CHECK(f.confidence >= 0.9);
  // Payment and change due, no line that says cash.
  CHECK(total("SHOP SDN BHD\nTotal Incl. of GST 15.90\nTotal Amt Rounded 45.90\nPayment : 50.00\n"
              "Change Due : 34.10\n").value == "15.90");
  // A rounding printed without its minus sign.
  CHECK(total("SHOP SDN BHD\nTotal RM 30.91\nROUNDING ADJUSTMENT RM 0.01\nTOTAL ROUNDED RM 30.90\n").value == "30.90");
  // A card paid the total after a rounding no total line shows.
  CHECK(total("SHOP SDN BHD\nTotal (Inclusive of GST): 65.53\nRounding Adj: 0.02\nVISA 65.55\n").value == "65.55");
  // ...but a rounding never leads away from a multiple of 5 sen.
  CHECK(total("SHOP SDN BHD\nTotal (Inclusive of GST): 67.98\nRounding Adj: 0.02\nTOTAL: 68.00\nVISA 68.00\n").value ==
        "68.00");
  // "Rounding RM 45.35": ringgit on a rounding line are the rounded total.
  CHECK(total("SHOP SDN BHD\nTotal Sales (Inclusive GST) RM 45.34\nRounding Adjustment RM 0.01\n"
              "Rounding RM 45.35\nCREDIT RM 45.35\n").value == "45.35");
  // Gross amount + GST = a total printed under "Sub Total".
  CHECK(total("SHOP SDN BHD\nGross Amount : 40.00\nTotal GST Amt : 2.40\nSub Total : 42.40\nTotal (RM) : TD\n")
            .value == "42.40");
}

TEST_CASE("extract: cash comes in multiples of 5 sen; a subtotal with tax added below is a part") {
  // The cash line read as 100.06 and again as 100.00: 100.00 - change.
  ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""},
                                                {"SUBTOTAL: 28.60", "SUBTOTAL: 28.6!"},
                                                {"TL RM 28 .60", ""},
                                                {"CASH 100.06", "CASH 100.00"},
                                                {"CASH CHANGE 71.40", "CASH CHANGE 71.40"}}),
                                   kToday);
  CHECK(r.total_amount.value == "28.60");
  CHECK(r.cash == 10000);
  // No line labelled total (OCR lost "TOTAL"), but subtotal + GST is
  // printed further down: that sum is the total, not the subtotal.
  ReceiptFields p = ExtractReceipt(Doc("SHOP SDN BHD\nSub Total : RM 68.87\nGST/TAX 6% : RM 4.13\nTOP, ; RM 73. 00\n"
                                       "CA. g RM 73. 00\n"),
                                   kToday);
  CHECK(p.total_amount.value == "73.00");
  CHECK(p.total_amount.confidence < 0.9);  // unlabelled: a clerk looks
}

TEST_CASE("extract: a date pieced together from a garbled labelled line goes to a clerk") {
  ReceiptFields r = ExtractReceipt(Doc("SHOP SDN BHD\nDate : 02~ \"04 2018 1b: 14:07\nTOTAL 4.40\n"), kToday);
  CHECK(r.service_date.value == "2018-04-02");
  CHECK(r.service_date.confidence <= 0.6);
  // Without a date label, digits are not guessed into a date.
  ReceiptFields u = ExtractReceipt(Doc("SHOP SDN BHD\nRef 02~ \"04 2018\nTOTAL 4.40\n"), kToday);
  CHECK(u.service_date.value.empty());
}

TEST_CASE("extract: two readings of a total line that agree, or do not") {
  SUBCASE("agree: confident without arithmetic") {
    ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""}, {"TOTAL 45.05", "TOTAL: 45.05"}}), kToday);
    CHECK(r.total_amount.value == "45.05");
    CHECK(r.total_amount.confidence >= 0.9);
  }
  SUBCASE("read once: not confident enough to skip review") {
    ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""}, {"TOTAL 45.05", ""}}), kToday);
    CHECK(r.total_amount.value == "45.05");
    CHECK(r.total_amount.confidence < 0.9);
  }
  SUBCASE("disagree with nothing to settle it: not confident") {
    ReceiptFields r = ExtractReceipt(TwoReadings({{"SHOP SDN BHD", ""}, {"TOTAL 45.05", "TOTAL 45.65"}}), kToday);
    CHECK(r.total_amount.confidence < 0.8);
  }
}

TEST_CASE("extract: a clear receipt number beside a misread label keeps its confidence") {
  auto doc = [](double label_conf, double number_conf) {
    nlohmann::json words = {{{"text", "INV#"}, {"confidence", label_conf}, {"box", {10, 10, 60, 20}}},
                            {{"text", "002511900048269"}, {"confidence", number_conf}, {"box", {80, 10, 300, 20}}}};
    nlohmann::json lines = {{{"text", "SHOP SDN BHD"}, {"confidence", 0.9}, {"box", {10, 0, 200, 10}}},
                            {{"text", "INV# 002511900048269"},
                             {"confidence", (label_conf + number_conf) / 2},
                             {"box", {10, 10, 370, 20}},
                             {"words", words}}};
    return OcrDocument::FromJson(nlohmann::json{{"pages", {{{"lines", lines}}}}}).value();
  };
  ReceiptFields clear = ExtractReceipt(doc(0.17, 0.91), kToday);
  CHECK(clear.receipt_number.value == "002511900048269");
  CHECK(clear.receipt_number.confidence >= 0.9);
  ReceiptFields unclear = ExtractReceipt(doc(0.17, 0.4), kToday);
  CHECK(unclear.receipt_number.value == "002511900048269");
  CHECK(unclear.receipt_number.confidence < 0.9);
}

TEST_CASE("extract: another date is doubt only when OCR could have made it out of the chosen one") {
  auto date = [](const std::string& text) { return ExtractReceipt(Doc(text), kToday).service_date; };
  // A promotion's end date is another fact, not a rival reading.
  Field far = date("SHOP SDN BHD\nDate: 27/02/2018\nTOTAL 4.40\nPromotion valid until 31/05/2018\n");
  CHECK(far.value == "2018-02-27");
  CHECK(far.confidence >= 0.9);
  // One digit apart: either could be the misread one.
  Field near = date("SHOP SDN BHD\nDate: 10/03/2018\nTOTAL 4.40\n11/03/2018 10:15\n");
  CHECK(near.value == "2018-03-10");
  CHECK(near.confidence < 0.9);
}

TEST_CASE("extract: a provider name over two lines, and OCR scraps after the legal form") {
  auto name = [](const std::string& text) { return ExtractReceipt(Doc(text), kToday).provider_name.value; };
  CHECK(name("LIAN CHI PU TIAN VEGETARIAN\nRESTAURANT SDN BHD\n(1095514-X)\n54, JALAN SS23/11\n"
             "TAMAN SEA,47400\nPETALING JAYA, SELANGOR\n") == "LIAN CHI PU TIAN VEGETARIAN RESTAURANT SDN BHD");
  CHECK(name("PASAR RAYA MEGA MAJU\n(SEMENYIH) SDN BHD\nLOT 5, JALAN BESAR,\n43500 SEMENYIH, SELANGOR\n") ==
        "PASAR RAYA MEGA MAJU (SEMENYIH) SDN BHD");
  // A name line that does not start with a kind of business stands alone.
  CHECK(name("Sarang Hae Yo\nTRENDYMAX (M) SDN. BHD.\nP6, Block C, Jalan Kasuarina 1,\n41200 Klang, Selangor\n") ==
        "TRENDYMAX (M) SDN. BHD.");
  CHECK(name("UNIHAKKA INTERNATIONAL SDN BHD f\nNO 5, JALAN MAJU,\n81100 JOHOR BAHRU, JOHOR\n") ==
        "UNIHAKKA INTERNATIONAL SDN BHD");
  CHECK(name("HOME MASTER HARDWARE &\nELECTRICAL\nNO.113G, JALAN SETIA GEMILANG\n40170 SHAH ALAM, SELANGOR\n") ==
        "HOME MASTER HARDWARE & ELECTRICAL");
  CHECK(name("POPULAR BOOK\nCO. (MH) SDN BHD\nNo 8, Jalan 7/18B, Desa Tun Razak\n56000 Kuala Lumpur\n") ==
        "POPULAR BOOK CO. (M) SDN BHD");  // (MH): the mark misread, mended
  // Seven short words are a name of initials, not a suffix line.
  CHECK(name("SWE OX\nMR. D.I.Y. (M) SDN BHD\nLOT 1851-A, JALAN KPB 6,\n43300 SERI KEMBANGAN, SELANGOR\n") ==
        "MR. D.I.Y. (M) SDN BHD");
  // A registration number after the name leaves it a name line; a title
  // one letter off is still a title.
  CHECK(name("Dion Realties Sdn Bhd (Co. No:20154-T)\n(GST Registration No : 000850247680)\n"
             "Tax Invoice ne. 7698/0601/\n27, Jalan Sultan Ismail,\n50250 Kuala Lumpur.\n") == "Dion Realties SDN BHD");
  CHECK(name("TAX INVOTCE\nAH HOCK\nNO 5, JALAN BESAR,\n43000 KAJANG, SELANGOR\n") == "AH HOCK");
}

TEST_CASE("extract: address blocks in less usual shapes") {
  auto address = [](const std::string& text) {
    return NormalizeForMatch(ExtractReceipt(Doc(text), kToday).provider_address.value);
  };
  // A lot number that reads like money does not end the address.
  CHECK(address("TASTE OF THE WORLD SDN BHD\nLot 38. 39 101 Boulevard\nJalan Kenari 5, Bandar Puchong Jaya\n"
                "47170 Puchong. Selangor\nTEL: 03-8079 0255\n") ==
        "LOT 38 39 101 BOULEVARD JALAN KENARI 5 BANDAR PUCHONG JAYA 47170 PUCHONG SELANGOR");
  // A town on its own line after the postcode, then the state.
  CHECK(address("SINNATHAMBY HOLDINGS SDN. BHD.\nNO.17, 18 & 41, JALAN BESAR,\n39100 BRINCHANG,\n"
                "CAMERON HIGHLANDS,\nPAHANG\nGST Reg.: 002120876032\n") ==
        "NO 17 18 & 41 JALAN BESAR 39100 BRINCHANG CAMERON HIGHLANDS PAHANG");
  // An id line under the name, its label misread, is not the address.
  CHECK(address("SUN WONG KUT SDN BHD\nConpany No 20965-W\nSite: 1046\n176 JLN SUNGEI BESI\n57100 KUALA LUMPUR\n"
                "Telephone: 03-9221345\n") == "176 JLN SUNGEI BESI 57100 KUALA LUMPUR");
  CHECK(address("ABC SDN BHD\nLOT 2685\nJLN GENTING KLANG\n53300 KUALA LUMPUR\n") ==
        "LOT 2685 JLN GENTING KLANG 53300 KUALA LUMPUR");
  // The table number printed on the address's last row is not part of it.
  CHECK(address("WARUNG SEDAP SDN BHD\n18,JALAN PERMAS 10/7\n81750 MASAI, JOHOR TABLE ; 3\n") ==
        "18 JALAN PERMAS 10 7 81750 MASAI JOHOR");
  // A petrol station: the site's address above the company's name.
  ReceiptFields r = ExtractReceipt(Doc("TAX INVOICE\nBHPetrol Permas Jaya 2\nLOT PTD 101051\nJalan Permas 10/10\n"
                                       "81750 Masai, Johor\nEsjay Fuel Enterprise\nCO. REG. NO: 001011128-T\n"
                                       "TOTAL SALES RM 50.00\n"),
                                   kToday);
  CHECK(r.provider_name.value == "Esjay Fuel Enterprise");
  CHECK(NormalizeForMatch(r.provider_address.value) == "LOT PTD 101051 JALAN PERMAS 10 10 81750 MASAI JOHOR");
  CHECK(r.provider_address.confidence <= 0.75);
}

TEST_CASE("extract: a date both readings agree on") {
  ReceiptFields once = ExtractReceipt(TwoReadings({{"Date: 05/03/2019", ""}}, 0.7), kToday);
  ReceiptFields twice = ExtractReceipt(TwoReadings({{"Date: 05/03/2019", "Date 05/03/2019"}}, 0.7), kToday);
  CHECK(once.service_date.value == "2019-03-05");
  CHECK(twice.service_date.value == "2019-03-05");
  CHECK(twice.service_date.confidence > once.service_date.confidence);
}

TEST_CASE("extract: receipt number labels and values that OCR damaged") {
  auto num = [](const std::string& line) {
    return ExtractReceipt(Doc("SHOP SDN BHD\n" + line + "\n"), kToday).receipt_number.value;
  };
  CHECK(num("Involce No.; = CS 47832") == "CS47832");
  CHECK(num("Doz No : S02070163") == "S02070163");
  CHECK(num("Receipt No.: C$1801/26874") == "CS1801/26874");
  CHECK(num("INVOICE NO z 18299/162/76230") == "18299/162/76230");
  CHECK(num("Doze No : 12345") == "");  // not a label, one edit from nothing
}

TEST_CASE("extract: provider names repaired from common OCR slips") {
  auto name = [](const std::string& line) {
    return ExtractReceipt(Doc(line + "\nNO 1, JALAN MAWAR,\n43000 KAJANG\n"), kToday).provider_name.value;
  };
  CHECK(name("MR. D.1.Y. (M) SDN BHD") == "MR. D.I.Y. (M) SDN BHD");
  CHECK(name("99 SPEED MART S/B ($19S37-x)") == "99 SPEED MART S/B");
  CHECK(name("KING'S CONFECTIONERY S/B8 273500-U (KSB)") == "KING'S CONFECTIONERY S/B");
  CHECK(name("LIGHTROOM GALLERY SDN B HD") == "LIGHTROOM GALLERY SDN BHD");
  CHECK(name("TRIPLE SIX POINT ENTERPRISE 666") == "TRIPLE SIX POINT ENTERPRISE 666");
  // Malaysia's (M) before the company form, its M misread.
  CHECK(name("KEDAI SEHAT (H) SDN BHD") == "KEDAI SEHAT (M) SDN BHD");
  CHECK(name("KEDAI SEHAT (MH) SON BHD") == "KEDAI SEHAT (M) SDN BHD");
  CHECK(name("KEDAI SEHAT (Mj) SDN. BHD.") == "KEDAI SEHAT (M) SDN. BHD.");
  // Other brackets stand, and no bracket keeps a space inside.
  CHECK(name("KEDAI SEHAT (KL ) SDN BHD") == "KEDAI SEHAT (KL) SDN BHD");
  CHECK(name("KEDAI SEHAT (HK) SDN BHD") == "KEDAI SEHAT (HK) SDN BHD");
  CHECK(name("WARUNG ( SRI GOMBAK ) SDN BHD") == "WARUNG (SRI GOMBAK) SDN BHD");
  CHECK(name("KEDAI SEHAT (H) ENTERPRISE") == "KEDAI SEHAT (H) ENTERPRISE");
}

TEST_CASE("extract: receipt number labels run together or misread") {
  auto num = [](const std::string& line) {
    return ExtractReceipt(Doc("SHOP SDN BHD\n" + line + "\n"), kToday).receipt_number.value;
  };
  CHECK(num("INVOICE NOs 18297/102/T0173") == "18297/102/T0173");
  CHECK(num("InvNo: 199977 TAS |") == "199977");
  CHECK(num("INY# 001780200112117") == "001780200112117");
  CHECK(num("irans # : 261172") == "261172");
  CHECK(num("Urder#. 149308") == "149308");
  CHECK(num("Doc No \xc2\xbb \xe2\x82\xac\xc2\xa7" "00013118 Date: 03/02/2018") == "00013118");
  CHECK(num("RECEIPT #: \xe2\x82\xacS00241867 DATE: 02/02/2018") == "S00241867");
}
