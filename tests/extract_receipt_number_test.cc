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
      {"Cash Sale No: CS-000123", "CS-000123"},
      {"Cash Bill No. 77812", "77812"},
      {"Doc No. : CS00012659", "CS00012659"},
      {"Tax Invoice : BAT02201803120255", "BAT02201803120255"},
  };
  for (const auto& [line, want] : cases) {
    Field f = Number(std::string(kHead) + line + "\nDate: 14/11/2026\nTOTAL 12.00\n");
    INFO(line);
    CHECK(f.value == want);
    CHECK(f.confidence >= 0.9);
  }
}

TEST_CASE("receipt number: a weak label gives a number, below the submit threshold") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Trans No: 123456", "123456"},     {"Ticket No: T-12345", "T-12345"},
      {"Order#: 139336", "139336"},       {"Chk 4521", "4521"},
      {"CB#: 69158", "69158"},            {"CS : 47832", "47832"},
      {"SALES NO. : 8807946", "8807946"}, {"Ref No: 006007363", "006007363"},
  };
  for (const auto& [line, want] : cases) {
    Field f = Number(std::string(kHead) + line + "\nDate: 14/11/2026\nTOTAL 12.00\n");
    INFO(line);
    CHECK(f.value == want);
    CHECK(f.confidence < 0.9);
  }
  // A weak label alone on its line does not take the next line's number.
  CHECK_FALSE(Number(std::string(kHead) + "ORDER\n12345678\nTOTAL 12.00\n").present());
  // A strong label does ("Invoice No" above its value).
  CHECK(Number(std::string(kHead) + "Invoice No\nINV-778\nTOTAL 12.00\n").value == "INV-778");
}

TEST_CASE("receipt number: numbers that are not the receipt's") {
  // Registration, tax and phone lines; a date after a label; a Malay item
  // count column ("Bil").
  CHECK_FALSE(Number(std::string(kHead) + "GST Reg No: 000123456789\nTel: 03-8736 1234\nTOTAL 12.00\n").present());
  CHECK_FALSE(Number(std::string(kHead) + "Receipt: 14/11/2026\nTOTAL 12.00\n").present());
  CHECK_FALSE(Number(std::string(kHead) + "Bil 1 Panadol 12.00\nTOTAL 12.00\n").present());
}
