// Receipt numbers after the labels receipts really print (issue 12), with a
// confidence that says how much the label can be trusted.
#include <doctest/doctest.h>

#include "ncbocr/extract.h"

using namespace ncbocr;

namespace {

Field Number(const std::string& text) {
  OcrDocument d = OcrDocument::FromJson(nlohmann::json{{"pages", {{{"text", text}}}}}).value();
  return ExtractReceipt(d, Date{2026, 11, 30}).receipt_number;
}

const char* const kHead = "KLINIK CONTOH SDN BHD\nNo 3, Jalan Satu\n43000 Kajang, Selangor\n";

// Each (label line, number) reads as that number, at a confidence that
// submits (strong) or one that sends the claim to a clerk.
void CheckNumbers(const std::vector<std::pair<std::string, std::string>>& cases, bool strong) {
  for (const auto& c : cases) {
    const std::string& line = c.first;  // not a structured binding: INFO captures it
    Field f = Number(std::string(kHead) + line + "\nDate: 14/11/2026\nTOTAL 12.00\n");
    INFO(line);
    CHECK(f.value == c.second);
    CHECK((f.confidence >= 0.9) == strong);
  }
}

}  // namespace

TEST_CASE("receipt number: English and Malay labels for the receipt's own number") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Invoice No: INV-2026-0042", "INV-2026-0042"},
      {"Receipt #: CS00082552", "CS00082552"},
      {"No. Invois: IV-55120", "IV-55120"},
      {"Invois No : 88123", "88123"},
      {"No. Resit: R-00123", "R-00123"},
      {"Resit : 000456", "000456"},
      {"Bil No: B12345", "B12345"},
      {"Bill#:V001-539233   Order#: 139336", "V001-539233"},
      {"Bil1#:V001-540401   Order#: 140508", "V001-540401"},  // BILL with an L read as 1
      {"Cash Sale No: CS-000123", "CS-000123"},
      {"Cash Bill No. 77812", "77812"},
      {"Doc No. : CS00012659", "CS00012659"},
      {"Tax Invoice : BAT02201803120255", "BAT02201803120255"},
      {"Trans No: 123456", "123456"},
      {"Ticket No: T-12345", "T-12345"},
      {"Order#: 139336", "139336"},
      {"Chk 4521", "4521"},
      {"CB#: 69158", "69158"},
      {"CS : 47832", "47832"},
      {"SALES NO. : 8807946", "8807946"},
      {"Slip No.: 0010104733", "0010104733"},
  };
  CheckNumbers(cases, /*strong=*/true);
}

TEST_CASE("receipt number: a weak label gives a number, below the submit threshold") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Ref No: 006007363", "006007363"},
      {"Serial No: SN-44120", "SN-44120"},
      {"Bil: 12345", "12345"},
  };
  CheckNumbers(cases, /*strong=*/false);
  // A weak label alone on its line does not take the next line's number.
  CHECK_FALSE(Number(std::string(kHead) + "Ref No\n12345678\nTOTAL 12.00\n").present());
  // A strong label does ("Invoice No" above its value).
  CHECK(Number(std::string(kHead) + "Invoice No\nINV-778\nTOTAL 12.00\n").value == "INV-778");
}

namespace {

// One line with word confidences.
Field NumberOnLine(const std::vector<std::pair<std::string, double>>& words) {
  nlohmann::json ws = nlohmann::json::array();
  std::string text;
  int x = 10;
  for (const auto& [w, c] : words) {
    ws.push_back(
        {{"text", w}, {"confidence", c}, {"box", {x, 100, 20 * static_cast<int>(w.size()), 20}}});
    text += (text.empty() ? "" : " ") + w;
    x += 20 * static_cast<int>(w.size()) + 15;
  }
  nlohmann::json line = {
      {"text", text}, {"confidence", 0.9}, {"box", {10, 100, x, 20}}, {"words", ws}};
  nlohmann::json page = {{"lines", {line}}};
  OcrDocument d = OcrDocument::FromJson(nlohmann::json{{"pages", {page}}}).value();
  return ExtractReceipt(d, Date{2026, 11, 30}).receipt_number;
}

}  // namespace

TEST_CASE("receipt number: the confidence says how well the number itself was read") {
  Field clear = NumberOnLine({{"Invoice", 0.9}, {"No:", 0.9}, {"KSB80051978", 0.92}});
  CHECK(clear.value == "KSB80051978");
  CHECK(clear.confidence >= 0.9);
  // The label read well, the number hardly: the clerk checks it.
  Field faint = NumberOnLine({{"Invoice", 0.95}, {"No:", 0.95}, {"7724717", 0.05}});
  CHECK(faint.value == "7724717");
  CHECK(faint.confidence < 0.9);
  // The line's second reading gives another number: below the threshold,
  // and the note names both.
  OcrDocument d =
      OcrDocument::FromJson(
          nlohmann::json{
              {"pages",
               {{{"lines",
                  {{{"text", "Invoice No: KSB80051978"},
                    {"confidence", 0.9},
                    {"box", {10, 100, 400, 20}},
                    {"words",
                     {{{"text", "Invoice"}, {"confidence", 0.9}, {"box", {10, 100, 100, 20}}},
                      {{"text", "No:"}, {"confidence", 0.9}, {"box", {120, 100, 40, 20}}},
                      {{"text", "KSB80051978"},
                       {"confidence", 0.9},
                       {"box", {170, 100, 200, 20}}}}},
                    {"alt", {{"text", "Invoice No: KSB80051973"}, {"confidence", 0.85}}}}}}}}}})
          .value();
  ReceiptFields r = ExtractReceipt(d, Date{2026, 11, 30});
  CHECK(r.receipt_number.value == "KSB80051978");
  CHECK(r.receipt_number.confidence < 0.9);
  bool noted = false;
  for (const auto& p : r.problems) noted |= p.find("KSB80051973") != std::string::npos;
  CHECK(noted);

  // Readings that differ only by a capital prefix one lost agree: the longer.
  nlohmann::json page = {
      {"lines",
       {{{"text", "Doc No: 00012013"},
         {"confidence", 0.9},
         {"box", {10, 100, 400, 20}},
         {"words",
          {{{"text", "Doc"}, {"confidence", 0.9}, {"box", {10, 100, 60, 20}}},
           {{"text", "No:"}, {"confidence", 0.9}, {"box", {80, 100, 40, 20}}},
           {{"text", "00012013"}, {"confidence", 0.9}, {"box", {130, 100, 160, 20}}}}},
         {"alt", {{"text", "Doc No: CS00012013"}, {"confidence", 0.85}}}}}}};
  ReceiptFields p = ExtractReceipt(OcrDocument::FromJson(nlohmann::json{{"pages", {page}}}).value(),
                                   Date{2026, 11, 30});
  CHECK(p.receipt_number.value == "CS00012013");
  CHECK(p.receipt_number.confidence >= 0.9);
}

TEST_CASE("receipt number: numbers that are not the receipt's") {
  // Registration, tax and phone lines; a date after a label; a Malay item
  // count column ("Bil").
  CHECK_FALSE(
      Number(std::string(kHead) + "GST Reg No: 000123456789\nTel: 03-8736 1234\nTOTAL 12.00\n")
          .present());
  CHECK_FALSE(Number(std::string(kHead) + "Receipt: 14/11/2026\nTOTAL 12.00\n").present());
  CHECK_FALSE(Number(std::string(kHead) + "Bil 1 Panadol 12.00\nTOTAL 12.00\n").present());
}
