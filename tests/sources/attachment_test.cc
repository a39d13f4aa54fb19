// Tests of attachment.h: sniffing by content, image headers, size rules, names.
#include "ncbocr/attachment.h"

#include <doctest/doctest.h>

#include "mail_fixtures.h"

namespace ncbocr {
namespace {

using testing::FakeJpeg;
using testing::FakePdf;
using testing::FakePng;
using testing::FakeTiffLe;

MimePart Part(std::string bytes, std::string type = "application/octet-stream",
              std::string name = "", int index = 0) {
  MimePart p;
  p.index = index;
  p.bytes = std::move(bytes);
  p.content_type = std::move(type);
  p.filename = std::move(name);
  return p;
}

TEST_CASE("attachment: sniffing ignores names and declared types") {
  CHECK(SniffFileKind(FakeJpeg(10, 10, 100)) == FileKind::kJpeg);
  CHECK(SniffFileKind(FakePng(10, 10, 100)) == FileKind::kPng);
  CHECK(SniffFileKind(FakeTiffLe(10, 10, 100)) == FileKind::kTiff);
  CHECK(SniffFileKind(std::string("MM\0*\0\0\0\x08", 8)) == FileKind::kTiff);
  CHECK(SniffFileKind(FakePdf()) == FileKind::kPdf);
  CHECK(SniffFileKind("junk\n%PDF-1.7\n") == FileKind::kPdf);
  CHECK(SniffFileKind("GIF89a....") == FileKind::kUnknown);
  CHECK(SniffFileKind("PK\x03\x04") == FileKind::kUnknown);
  CHECK(SniffFileKind("") == FileKind::kUnknown);
  CHECK(SniffFileKind("\xFF\xD8") == FileKind::kUnknown);

  FetchConfig cfg;
  // A PNG declared as a PDF and named .exe is a PNG.
  auto d = ClassifyAttachment(Part(FakePng(900, 1200, 5000), "application/pdf", "x.exe"), cfg);
  CHECK(d.accept);
  CHECK(d.kind == FileKind::kPng);
  CHECK(d.filename == "x.png");
  // A Word file declared as image/jpeg is skipped.
  d = ClassifyAttachment(Part("PK\x03\x04 word", "image/jpeg", "receipt.jpg", 2), cfg);
  CHECK_FALSE(d.accept);
  CHECK(d.reason.rfind("part 3 (image/jpeg", 0) == 0);
  CHECK(d.reason.find("receipt.jpg") == std::string::npos);
}

TEST_CASE("attachment: image dimensions from headers") {
  auto s = ReadImageSize(FakeJpeg(1240, 1754, 4000), FileKind::kJpeg);
  REQUIRE(s);
  CHECK(s->width == 1240);
  CHECK(s->height == 1754);
  s = ReadImageSize(FakePng(640, 480, 100), FileKind::kPng);
  REQUIRE(s);
  CHECK(s->width == 640);
  CHECK(s->height == 480);
  s = ReadImageSize(FakeTiffLe(300, 200, 100), FileKind::kTiff);
  REQUIRE(s);
  CHECK(s->width == 300);
  CHECK(s->height == 200);
  CHECK_FALSE(ReadImageSize("\xFF\xD8\xFF\xE0\x00", FileKind::kJpeg));
  CHECK_FALSE(ReadImageSize("\x89PNG\r\n\x1A\n", FileKind::kPng));
  CHECK_FALSE(ReadImageSize(std::string("II*\0\xFF\xFF\xFF\x7F", 8), FileKind::kTiff));
}

TEST_CASE("attachment: logos, signatures and oversized parts are skipped with a reason") {
  FetchConfig cfg;
  cfg.min_image_bytes = 2048;
  cfg.min_image_pixels = 120;
  cfg.max_attachment_bytes = 100000;

  auto d = ClassifyAttachment(Part(FakePng(64, 32, 900), "image/png", "logo.png"), cfg);
  CHECK_FALSE(d.accept);
  CHECK(d.reason.find("too small") != std::string::npos);

  // Issue 15: 661 bytes declaring 60000x60000 pixels is no logo but a broken image.
  d = ClassifyAttachment(Part(FakePng(60000, 60000, 661), "image/png", "r.png"), cfg);
  CHECK_FALSE(d.accept);
  CHECK(d.reason.find("claims 60000x60000 pixels in only") != std::string::npos);
  CHECK(d.reason.find("truncated") != std::string::npos);
  CHECK(d.reason.find("logo") == std::string::npos);

  d = ClassifyAttachment(Part(FakePng(600, 80, 9000), "image/png"), cfg);  // a banner
  CHECK_FALSE(d.accept);
  CHECK(d.reason.find("600x80") != std::string::npos);

  d = ClassifyAttachment(Part(FakeJpeg(2000, 3000, 200000), "image/jpeg"), cfg);
  CHECK_FALSE(d.accept);
  CHECK(d.reason.find("max_attachment_bytes") != std::string::npos);

  d = ClassifyAttachment(Part(std::string("\xFF\xD8\xFF\xD9") + std::string(4000, 'x')), cfg);
  CHECK_FALSE(d.accept);
  CHECK(d.reason.find("unreadable") != std::string::npos);

  // A small PDF is fine: the pixel rules are for images.
  d = ClassifyAttachment(Part(FakePdf(), "application/pdf", "inv.pdf"), cfg);
  CHECK(d.accept);
  CHECK(d.filename == "inv.pdf");

  // The declared type is sender text and only shown if it is a plain token.
  d = ClassifyAttachment(Part("zzz", "text/plain; name=\"Ahmad bin Ali.txt\""), cfg);
  CHECK(d.reason.find("Ahmad") == std::string::npos);
}

TEST_CASE("attachment: file names are sanitised") {
  CHECK(SanitizeFilename("../x", FileKind::kJpeg, 0) == "x.jpg");
  CHECK(SanitizeFilename("../../etc/passwd", FileKind::kPdf, 0) == "passwd.pdf");
  CHECK(SanitizeFilename("/etc/cron.d/evil.png", FileKind::kPng, 0) == "evil.png");
  CHECK(SanitizeFilename("C:\\Users\\siti\\resit.JPG", FileKind::kJpeg, 0) == "resit.jpg");
  CHECK(SanitizeFilename("..", FileKind::kJpeg, 2) == "attachment-3.jpg");
  CHECK(SanitizeFilename("", FileKind::kPdf, 0) == "attachment-1.pdf");
  CHECK(SanitizeFilename(".hidden.png", FileKind::kPng, 0) == "hidden.png");
  CHECK(SanitizeFilename("a..b.png", FileKind::kPng, 0) == "a.b.png");
  CHECK(SanitizeFilename("re\x01" "ce\ti\npt\x7F.png", FileKind::kPng, 0) == "receipt.png");
  CHECK(SanitizeFilename("-rf receipt.png", FileKind::kPng, 0) == "rf receipt.png");
  CHECK(SanitizeFilename("a|b;c$d`e.png", FileKind::kPng, 0) == "a_b_c_d_e.png");
  CHECK(SanitizeFilename("  lots   of   space  .png", FileKind::kPng, 0) == "lots of space.png");
  // RIGHT-TO-LEFT OVERRIDE would show "invoice\u202Egpj.exe" as "invoiceexe.jpg".
  CHECK(SanitizeFilename("invoice\xE2\x80\xAEgpj.exe", FileKind::kPdf, 0) == "invoicegpj.pdf");
  CHECK(SanitizeFilename("\xE2\x80\x8F\xE2\x81\xA6x\xE2\x80\x8B.png", FileKind::kPng, 0) == "x.png");
  // Kept: ordinary non-ASCII letters. Dropped: invalid UTF-8.
  CHECK(SanitizeFilename("resit \xE7\x94\xB3\xE8\xAF\xB7.png", FileKind::kPng, 0) ==
        "resit \xE7\x94\xB3\xE8\xAF\xB7.png");
  CHECK(SanitizeFilename("a\xFF\xFE" "b.png", FileKind::kPng, 0) == "ab.png");
  // Extension follows the content.
  CHECK(SanitizeFilename("scan.pdf", FileKind::kTiff, 0) == "scan.tif");
  CHECK(SanitizeFilename("noext", FileKind::kJpeg, 0) == "noext.jpg");
}

TEST_CASE("attachment: long names are cut to the limit without splitting a character") {
  std::string ascii(1000, 'a');
  std::string s = SanitizeFilename(ascii + ".png", FileKind::kPng, 0);
  CHECK(s.size() == 100);
  CHECK(s.ends_with(".png"));

  std::string wide;
  for (int i = 0; i < 500; ++i) wide += "\xE7\x94\xB3";  // 3 bytes each
  s = SanitizeFilename(wide, FileKind::kJpeg, 0);
  CHECK(s.size() <= 100);
  CHECK(s.ends_with(".jpg"));
  CHECK((s.size() - 4) % 3 == 0);
  CHECK(s.substr(0, 3) == "\xE7\x94\xB3");
}

}  // namespace
}  // namespace ncbocr
