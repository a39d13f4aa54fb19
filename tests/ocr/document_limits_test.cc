// Hostile receipt files (issue 6): sizes and page counts are checked from the
// headers before any pixel is decoded, broken files are refused with a
// permanent error naming the file, and pages are decoded one at a time.
#include <cstring>
#include <fstream>

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ncbocr/document.h"
#include "ncbocr/mime.h"
#include "test_util.h"

using namespace ncbocr;

namespace {

void WriteBytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

bool Has(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

std::string Le16(uint32_t v) { return {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; }
std::string Le32(uint32_t v) { return Le16(v & 0xFFFF) + Le16(v >> 16); }

// A little-endian TIFF whose pages all claim width x height and share one
// strip of `strip` bytes; loop_to_first makes the last directory point back
// at the first.
std::string Tiff(int pages, uint32_t width, uint32_t height, bool loop_to_first = false) {
  const std::string strip(64, '\xFF');
  const uint32_t first = 8 + static_cast<uint32_t>(strip.size());
  const uint32_t ifd_size = 2 + 8 * 12 + 4;
  std::string out = "II*" + std::string(1, '\0') + Le32(first) + strip;
  for (int i = 0; i < pages; ++i) {
    const uint32_t here = first + static_cast<uint32_t>(i) * ifd_size;
    uint32_t next = i + 1 < pages ? here + ifd_size : (loop_to_first ? first : 0);
    const uint32_t tags[8][3] = {{256, 4, width}, {257, 4, height}, {258, 3, 8},  {259, 3, 1},
                                 {262, 3, 1},     {273, 4, 8},      {278, 4, height},
                                 {279, 4, static_cast<uint32_t>(strip.size())}};
    out += Le16(8);
    for (const auto& t : tags) {
      out += Le16(t[0]) + Le16(t[1]) + Le32(1);
      out += t[1] == 3 ? Le16(t[2]) + Le16(0) : Le32(t[2]);
    }
    out += Le32(next);
  }
  return out;
}

std::string Jpeg(int width, int height) {
  cv::Mat m(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(m, "RM 12.30", {10, height / 2}, cv::FONT_HERSHEY_SIMPLEX, 1.0, {0, 0, 0}, 2);
  std::vector<uchar> buf;
  cv::imencode(".jpg", m, buf);
  return std::string(buf.begin(), buf.end());
}

// A PNG header (with a correct IHDR) claiming width x height, then junk
// where the pixels should be: decoding it would fail, so an error naming
// the pixel limit shows the header was checked first.
std::string PngHeaderOnly(uint32_t width, uint32_t height) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::string ihdr = be32(width) + be32(height) + std::string("\x08\x00\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + ihdr + be32(0) +
         std::string(4000, 'x');
}

}  // namespace

TEST_CASE("document limits: a decompression bomb is refused from its header") {
  testing::TempDir t;
  WriteBytes(t.path() / "bomb.png", PngHeaderOnly(20000, 20000));
  auto png = DocumentReader::Open(t.path() / "bomb.png", OcrConfig{});
  CHECK(png.status().kind() == ErrorKind::kPermanent);
  CHECK(Has(png.status(), "400000000 pixels"));
  CHECK(Has(png.status(), "ocr.max_pixels"));
  CHECK(Has(png.status(), "bomb.png"));

  // The same JPEG with its frame header claiming 30000 x 30000.
  std::string jpeg = Jpeg(300, 200);
  size_t sof = jpeg.find("\xFF\xC0");
  REQUIRE(sof != std::string::npos);
  jpeg[sof + 5] = jpeg[sof + 7] = static_cast<char>(30000 >> 8);
  jpeg[sof + 6] = jpeg[sof + 8] = static_cast<char>(30000 & 0xFF);
  WriteBytes(t.path() / "bomb.jpg", jpeg);
  auto jpg = DocumentReader::Open(t.path() / "bomb.jpg", OcrConfig{});
  CHECK(Has(jpg.status(), "900000000 pixels"));

  WriteBytes(t.path() / "bomb.tif", Tiff(1, 30000, 30000));
  CHECK(Has(DocumentReader::Open(t.path() / "bomb.tif", OcrConfig{}).status(), "ocr.max_pixels"));
}

TEST_CASE("document limits: TIFF page count, directory loops and truncation") {
  testing::TempDir t;
  OcrConfig cfg;
  cfg.max_pages = 3;
  WriteBytes(t.path() / "many.tif", Tiff(50, 100, 100));
  auto many = DocumentReader::Open(t.path() / "many.tif", cfg);
  CHECK(many.status().kind() == ErrorKind::kPermanent);
  CHECK(Has(many.status(), "ocr.max_pages"));

  WriteBytes(t.path() / "loop.tif", Tiff(2, 100, 100, /*loop_to_first=*/true));
  auto loop = DocumentReader::Open(t.path() / "loop.tif", cfg);
  CHECK(loop.status().kind() == ErrorKind::kPermanent);
  CHECK(Has(loop.status(), "loops"));

  std::string cut = Tiff(1, 100, 100);
  cut.resize(cut.size() - 40);
  WriteBytes(t.path() / "cut.tif", cut);
  CHECK(Has(DocumentReader::Open(t.path() / "cut.tif", cfg).status(), "past the end"));
}

TEST_CASE("document limits: a JPEG without its end is refused, a whole one reads") {
  testing::TempDir t;
  std::string jpeg = Jpeg(320, 240);
  WriteBytes(t.path() / "whole.jpg", jpeg);
  auto whole = DocumentReader::Open(t.path() / "whole.jpg", OcrConfig{});
  REQUIRE(whole.ok());
  REQUIRE(whole->page_count() == 1);
  auto page = whole->ReadPage(0);
  REQUIRE(page.ok());
  CHECK(page->image.cols == 320);

  WriteBytes(t.path() / "half.jpg", jpeg.substr(0, jpeg.size() / 2));
  auto half = DocumentReader::Open(t.path() / "half.jpg", OcrConfig{});
  CHECK(half.status().kind() == ErrorKind::kPermanent);
  CHECK(Has(half.status(), "no end-of-image marker"));
}

TEST_CASE("document limits: a multi-page TIFF is decoded one page at a time") {
  testing::TempDir t;
  std::vector<cv::Mat> pages = {cv::Mat(100, 200, CV_8UC3, cv::Scalar::all(255)),
                                cv::Mat(300, 150, CV_8UC3, cv::Scalar::all(0)),
                                cv::Mat(50, 60, CV_8UC3, cv::Scalar::all(128))};
  REQUIRE(cv::imwritemulti((t.path() / "three.tif").string(), pages));
  auto r = DocumentReader::Open(t.path() / "three.tif", OcrConfig{});
  REQUIRE(r.ok());
  REQUIRE(r->page_count() == 3);
  for (int i : {2, 0, 1}) {  // any order: each call decodes just that page
    auto p = r->ReadPage(i);
    REQUIRE(p.ok());
    CHECK(p->image.cols == pages[i].cols);
    CHECK(p->image.rows == pages[i].rows);
  }
  CHECK_FALSE(r->ReadPage(3).ok());
}

TEST_CASE("document limits: PDF pages with absurd or huge boxes are refused per page") {
  testing::TempDir t;
  auto pdf = [](const std::string& box, int count) {
    std::vector<std::string> objs = {"<< /Type /Catalog /Pages 2 0 R >>"};
    std::string kids;
    for (int i = 0; i < count; ++i) kids += std::to_string(3 + i) + " 0 R ";
    objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(count) + " >>");
    for (int i = 0; i < count; ++i) objs.push_back("<< /Type /Page /Parent 2 0 R /MediaBox " + box + " >>");
    std::string out = "%PDF-1.4\n";
    std::vector<size_t> offsets;
    for (size_t i = 0; i < objs.size(); ++i) {
      offsets.push_back(out.size());
      out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
    }
    size_t xref = out.size();
    out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
    for (size_t o : offsets) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", o);
      out += buf;
    }
    return out + "trailer\n<< /Size " + std::to_string(objs.size() + 1) +
           " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  };
  OcrConfig cfg;
  cfg.pdf_dpi = 72;
  WriteBytes(t.path() / "huge.pdf", pdf("[0 0 14400 14400]", 1));
  cfg.max_pixels = 1'000'000;
  auto huge = DocumentReader::Open(t.path() / "huge.pdf", cfg);
  REQUIRE(huge.ok());
  CHECK(Has(huge->ReadPage(0).status(), "ocr.max_pixels"));

  WriteBytes(t.path() / "pages.pdf", pdf("[0 0 100 50]", 4));
  auto four = DocumentReader::Open(t.path() / "pages.pdf", cfg);
  REQUIRE(four.ok());
  CHECK(four->page_count() == 4);
  auto p = four->ReadPage(3);
  REQUIRE(p.ok());
  CHECK(p->image.cols == 100);
  cfg.max_pages = 3;
  CHECK(Has(DocumentReader::Open(t.path() / "pages.pdf", cfg).status(), "ocr.max_pages"));
}

TEST_CASE("mime limits: a megabyte header is cut before GMime parses it") {
  std::string subject(8 * 1024 * 1024, 'S');
  for (size_t i = 1; i < subject.size(); i += 2) subject[i] = ' ';
  std::string raw = "From: a@example.com\r\nSubject: " + subject +
                    "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                    "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                    "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
                    "filename=r.pdf\r\n\r\n%PDF-1.4 x\r\n--b--\r\n";
  auto e = ParseEmail(raw);
  REQUIRE(e.ok());
  CHECK(e->info.subject.size() <= MimeLimits{}.max_header_bytes);
  CHECK(e->info.text == "hello");
  REQUIRE(e->parts.size() == 1);  // the headers after the long one are still read
  CHECK(e->parts[0].filename == "r.pdf");
  bool noted = false;
  for (const auto& n : e->notes) noted |= n.find("cut before parsing") != std::string::npos;
  CHECK(noted);
}
