// ExtractHeader and ExtractReceiptNumber on lines written here, without OCR
// or BuildLines: the provider, its address and the receipt's number.
#include <doctest/doctest.h>

#include <algorithm>

#include "extract/written_lines.h"
#include "extract/extract_internal.h"
#include "ncbocr/extract.h"

using namespace ncbocr;
using ncbocr::testing::L;
using internal::Line;

namespace {

std::vector<Line> Lines(const std::vector<std::string>& texts, double confidence = 0.95) {
  std::vector<Line> lines;
  for (const auto& t : texts) lines.push_back(L(t, confidence));
  return lines;
}

ReceiptFields Header(const std::vector<std::string>& texts) {
  ReceiptFields r;
  internal::ExtractHeader(Lines(texts), r);
  return r;
}

std::string Address(const std::vector<std::string>& texts) { return Header(texts).provider_address.value; }

}  // namespace

TEST_CASE(
    "header: the line with a company form is the provider, its address runs to the postcode") {
  ReceiptFields r =
      Header({"WELCOME", "Good health for all", "SEHAT KLINIK SDN BHD", "12, Jalan Kenanga 3",
              "Taman Melati", "53100 Kuala Lumpur", "Tel: 03-4100 2200", "Date: 02/03/2024"});
  CHECK(r.provider_name.value == "SEHAT KLINIK SDN BHD");
  CHECK(r.provider_name.confidence > 0.8);
  CHECK(r.provider_name.pages == std::vector<int>{1});
  CHECK(r.provider_address.value.find("12, Jalan Kenanga 3") != std::string::npos);
  CHECK(r.provider_address.value.find("53100 Kuala Lumpur") != std::string::npos);
  CHECK(r.provider_address.value.find("Tel") == std::string::npos);
}

TEST_CASE("header: OPTICAL names a trade, as PHARMACY does, over a slogan line above it") {
  // Without the mark the first name-like line (the slogan) would be taken,
  // at the confidence of a guess.
  ReceiptFields r = Header({"SEE BETTER EVERY DAY", "CAHAYA MATA OPTICAL", "8, Jalan Bakti",
                            "81200 Johor Bahru", "Invoice No: OP-1188"});
  CHECK(r.provider_name.value == "CAHAYA MATA OPTICAL");
  CHECK(r.provider_name.confidence > 0.8);
  ReceiptFields guess = Header({"SEE BETTER EVERY DAY", "CAHAYA MATA EYEWEAR", "8, Jalan Bakti",
                                "81200 Johor Bahru", "Invoice No: OP-1188"});
  CHECK(guess.provider_name.value == "SEE BETTER EVERY DAY");
  CHECK(guess.provider_name.confidence < 0.7);
}

TEST_CASE("header: a name broken over two lines at its company form is joined") {
  ReceiptFields r = Header({"TOKO BUKU PELANGI", "SDN BHD", "3, Jalan Pasar", "30000 Ipoh, Perak"});
  CHECK(r.provider_name.value == "TOKO BUKU PELANGI SDN BHD");
}

TEST_CASE("header: a branch's line before a numbered address is no part of it") {
  // A place name without a number, then the street with one: the address
  // starts at the street.
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD", "SIHAT PHARMACY TAMAN MELAWATI", "7, Jalan Kolam Air",
                 "53100 Kuala Lumpur", "Date: 02/03/2024"}) ==
        "7, Jalan Kolam Air 53100 Kuala Lumpur");
  // A line that starts like an address stays, with or without a number.
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD", "WISMA MELAWATI", "7, Jalan Kolam Air",
                 "53100 Kuala Lumpur", "Date: 02/03/2024"}) ==
        "WISMA MELAWATI 7, Jalan Kolam Air 53100 Kuala Lumpur");
  // Nor does a first line without a number go when the next has none.
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD", "Melawati Mall", "Jalan Kolam Air",
                 "53100 Kuala Lumpur"}) == "Melawati Mall Jalan Kolam Air 53100 Kuala Lumpur");
}

TEST_CASE("header: a line above the registration with nothing of an address is a branch") {
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD (123456-K)", "Ampang 2", "GST Reg No 000123456789",
                 "Jalan Kolam Air", "53100 Kuala Lumpur"}) == "Jalan Kolam Air 53100 Kuala Lumpur");
  // An address line above the registration is kept.
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD (123456-K)", "Lot 2, Jalan Kolam Air",
                 "GST Reg No 000123456789", "53100 Kuala Lumpur"}) ==
        "Lot 2, Jalan Kolam Air 53100 Kuala Lumpur");
}

TEST_CASE("header: five digits after LOT, PT or No are a lot, not the postcode") {
  // Read as the postcode, the lot number would end the address at its
  // first line.
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD", "LOT 20517 Jalan Sungai Besi", "Taman Midah",
                 "56000 Kuala Lumpur", "Tel: 03-9100 2200"}) ==
        "LOT 20517 Jalan Sungai Besi Taman Midah 56000 Kuala Lumpur");
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD", "PT. 20517, Jalan Sungai Besi", "Taman Midah",
                 "56000 Kuala Lumpur"}) ==
        "PT. 20517, Jalan Sungai Besi Taman Midah 56000 Kuala Lumpur");
  // Five digits after another word are still a postcode.
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD", "Jalan Sungai Besi, Cheras 56000", "Kuala Lumpur",
                 "Tel: 03-9100 2200"}) == "Jalan Sungai Besi, Cheras 56000 Kuala Lumpur");
}

TEST_CASE("header: a | at either end of an address line is a box's edge") {
  CHECK(Address({"KEDAI UBAT SIHAT SDN BHD", "| 7, Jalan Kolam Air |", "| 53100 Kuala Lumpur",
                 "Tel: 03-4100 2200"}) == "7, Jalan Kolam Air 53100 Kuala Lumpur");
}

TEST_CASE("header: no name-like line gives no provider") {
  ReceiptFields r = Header({"12.50", "---", "03/03/2024"});
  CHECK_FALSE(r.provider_name.present());
  CHECK_FALSE(r.provider_address.present());
}

TEST_CASE("receipt number: a strong label submits, a weak one goes below the threshold") {
  ReceiptFields strong;
  internal::ExtractReceiptNumber(
      Lines({"KLINIK SEHAT", "Receipt No: R-20240302-07", "TOTAL 10.00"}), strong);
  CHECK(strong.receipt_number.value == "R-20240302-07");
  CHECK(strong.receipt_number.confidence >= 0.9);

  ReceiptFields weak;
  internal::ExtractReceiptNumber(Lines({"KLINIK SEHAT", "Ref No: 558812", "TOTAL 10.00"}), weak);
  CHECK(weak.receipt_number.value == "558812");
  CHECK(weak.receipt_number.confidence < 0.9);

  ReceiptFields none;
  internal::ExtractReceiptNumber(Lines({"KLINIK SEHAT", "TOTAL 10.00"}), none);
  CHECK_FALSE(none.receipt_number.present());
}
