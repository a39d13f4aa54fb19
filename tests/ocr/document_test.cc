#include "ncbocr/document.h"

#include <fstream>

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>

#include "test_util.h"

using namespace ncbocr;

namespace {

const std::filesystem::path kData = std::filesystem::path(NCBOCR_SOURCE_DIR) / "tests/data/ocr";

void WriteBytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

// A one-page PDF whose page draws `text` with a standard font, so it has a
// text layer; offsets in the xref table are computed, not guessed.
std::string TextPdf(const std::vector<std::string>& lines) {
  std::string content = "BT /F1 12 Tf 14 TL 20 200 Td ";
  for (const auto& l : lines) content += "(" + l + ") ' ";
  content += "ET";
  std::vector<std::string> objs = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 250] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t o : offsets) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", o);
    pdf += buf;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace

TEST_CASE("document: formats are sniffed from the bytes") {
  CHECK(SniffFormat("\xFF\xD8\xFF\xE0xxxx") == DocumentFormat::kJpeg);
  CHECK(SniffFormat("\x89PNG\r\n\x1a\nxxxx") == DocumentFormat::kPng);
  CHECK(SniffFormat(std::string("II*\0xxxx", 8)) == DocumentFormat::kTiff);
  CHECK(SniffFormat(std::string("MM\0*xxxx", 8)) == DocumentFormat::kTiff);
  CHECK(SniffFormat("%PDF-1.7\n") == DocumentFormat::kPdf);
  CHECK(SniffFormat("junk\r\n%PDF-1.4") == DocumentFormat::kPdf);
  CHECK(SniffFormat("hello world") == DocumentFormat::kUnknown);
}

TEST_CASE("document: PNG and multi-page TIFF decode to 8-bit gray pages") {
  OcrConfig cfg;
  auto png = LoadDocument(kData / "receipt.png", cfg);
  REQUIRE(png.ok());
  REQUIRE(png->pages.size() == 1);
  CHECK(png->pages[0].image.type() == CV_8UC1);
  CHECK(png->format == DocumentFormat::kPng);
  auto tif = LoadDocument(kData / "two_pages.tif", cfg);
  REQUIRE(tif.ok());
  CHECK(tif->pages.size() == 2);
  CHECK(tif->pages[1].image.cols > tif->pages[1].image.rows);  // the second page is sideways
  CHECK(tif->pages[1].image.type() == CV_8UC1);
}

// An APP1 segment holding only the EXIF orientation tag (0x0112), in the
// little-endian TIFF layout: what a phone writes for a photo taken sideways.
std::string ExifOrientation(uint16_t value) {
  std::string tiff = std::string("II*\0", 4) + std::string("\x08\0\0\0", 4)  // header, IFD at 8
                     + std::string("\x01\0", 2)                                  // one entry
                     + std::string("\x12\x01\x03\0\x01\0\0\0", 8)          // 0x0112 SHORT x1
                     + std::string(1, static_cast<char>(value)) + std::string(3, '\0')
                     + std::string(4, '\0');  // no next IFD
  std::string body = std::string("Exif\0\0", 6) + tiff;
  const size_t len = body.size() + 2;
  return std::string("\xFF\xE1", 2) + static_cast<char>(len >> 8) + static_cast<char>(len & 0xFF) + body;
}

TEST_CASE("document: a JPEG's EXIF orientation is applied, in gray") {
  // A 120x40 page, dark on the left: stored as shot, with "rotate 90 CW to view" (6).
  cv::Mat page(40, 120, CV_8UC3, cv::Scalar::all(255));
  page(cv::Rect(0, 0, 30, 40)).setTo(cv::Scalar::all(0));
  std::vector<uchar> jpg;
  REQUIRE(cv::imencode(".jpg", page, jpg));
  std::string bytes(jpg.begin(), jpg.end());
  testing::TempDir t;
  WriteBytes(t.path() / "plain.jpg", bytes);
  WriteBytes(t.path() / "sideways.jpg", bytes.substr(0, 2) + ExifOrientation(6) + bytes.substr(2));

  auto plain = LoadDocument(t.path() / "plain.jpg", OcrConfig{});
  REQUIRE(plain.ok());
  CHECK(plain->pages[0].image.cols == 120);
  CHECK(plain->pages[0].image.type() == CV_8UC1);

  auto turned = LoadDocument(t.path() / "sideways.jpg", OcrConfig{});
  REQUIRE(turned.ok());
  const cv::Mat& m = turned->pages[0].image;
  REQUIRE(m.type() == CV_8UC1);
  CHECK(m.cols == 40);
  CHECK(m.rows == 120);
  // Turned clockwise, the dark left edge is now at the top.
  CHECK(cv::mean(m(cv::Rect(0, 0, 40, 20)))[0] < 60);
  CHECK(cv::mean(m(cv::Rect(0, 100, 40, 20)))[0] > 200);
}

TEST_CASE("document: limits and bad files give clear permanent errors") {
  testing::TempDir t;
  OcrConfig cfg;
  cfg.max_pixels = 1000;
  auto big = LoadDocument(kData / "receipt.png", cfg);
  CHECK(big.status().kind() == ErrorKind::kPermanent);
  CHECK(big.status().message().find("ocr.max_pixels") != std::string::npos);

  OcrConfig one;
  one.max_pages = 1;
  auto many = LoadDocument(kData / "two_pages.tif", one);
  CHECK(many.status().kind() == ErrorKind::kPermanent);
  CHECK(many.status().message().find("ocr.max_pages") != std::string::npos);

  WriteBytes(t.path() / "broken.jpg", std::string("\xFF\xD8\xFF\xE0") + std::string(200, 'x'));
  auto broken = LoadDocument(t.path() / "broken.jpg", OcrConfig{});
  CHECK(broken.status().kind() == ErrorKind::kPermanent);
  CHECK(broken.status().message().find("broken.jpg") != std::string::npos);

  WriteBytes(t.path() / "note.txt", "just some text");
  CHECK(LoadDocument(t.path() / "note.txt", OcrConfig{}).status().kind() == ErrorKind::kPermanent);
  WriteBytes(t.path() / "empty.pdf", "");
  CHECK(LoadDocument(t.path() / "empty.pdf", OcrConfig{}).status().kind() == ErrorKind::kPermanent);
  WriteBytes(t.path() / "bad.pdf", "%PDF-1.4\nthis is not a pdf at all\n");
  CHECK(LoadDocument(t.path() / "bad.pdf", OcrConfig{}).status().kind() == ErrorKind::kPermanent);
  CHECK(LoadDocument(t.path() / "missing.png", OcrConfig{}).status().kind() == ErrorKind::kIo);
}

TEST_CASE("document: a PDF with a text layer keeps its text; one without is rendered") {
  testing::TempDir t;
  WriteBytes(t.path() / "text.pdf", TextPdf({"KLINIK SIHAT SDN BHD", "Receipt No: 12345",
                                             "Date: 05/03/2019", "TOTAL RM 45.00"}));
  auto doc = LoadDocument(t.path() / "text.pdf", OcrConfig{});
  REQUIRE(doc.ok());
  REQUIRE(doc->pages.size() == 1);
  CHECK(doc->pages[0].has_text_layer);
  CHECK(doc->pages[0].text_layer.find("TOTAL RM 45.00") != std::string::npos);
  CHECK(doc->pages[0].image.empty());

  WriteBytes(t.path() / "blank.pdf", TextPdf({}));
  OcrConfig cfg;
  cfg.pdf_dpi = 72;
  auto blank = LoadDocument(t.path() / "blank.pdf", cfg);
  REQUIRE(blank.ok());
  CHECK_FALSE(blank->pages[0].has_text_layer);
  CHECK(blank->pages[0].image.cols == 300);
  CHECK(blank->pages[0].image.rows == 250);
}
