#include "ncbocr/file_kind.h"

#include <cstdint>

namespace ncbocr {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

uint32_t Be16(std::string_view s, size_t i) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[i])) << 8) |
         static_cast<unsigned char>(s[i + 1]);
}
uint32_t Be32(std::string_view s, size_t i) { return (Be16(s, i) << 16) | Be16(s, i + 2); }

std::optional<ImageSize> PngSize(std::string_view b) {
  // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
  if (b.size() < 24 || b.substr(12, 4) != "IHDR") return std::nullopt;
  uint32_t w = Be32(b, 16), h = Be32(b, 20);
  if (w == 0 || h == 0 || w > 0x7FFFFFFF || h > 0x7FFFFFFF) return std::nullopt;
  return ImageSize{static_cast<int>(w), static_cast<int>(h)};
}

std::optional<ImageSize> JpegSize(std::string_view b) {
  // Walk the marker segments up to the first start-of-frame.
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return std::nullopt;
    unsigned char marker = static_cast<unsigned char>(b[i + 1]);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;  // markers without a length
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // EOI / SOS before a frame
    uint32_t len = Be16(b, i + 2);
    if (len < 2) return std::nullopt;
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
               marker != 0xCC;
    if (sof) {
      if (i + 9 > b.size()) return std::nullopt;
      uint32_t h = Be16(b, i + 5), w = Be16(b, i + 7);
      if (w == 0 || h == 0) return std::nullopt;
      return ImageSize{static_cast<int>(w), static_cast<int>(h)};
    }
    i += 2 + len;
  }
  return std::nullopt;
}

std::optional<ImageSize> TiffSize(std::string_view b) {
  if (b.size() < 8) return std::nullopt;
  bool le = b[0] == 'I';
  auto u16 = [&](size_t i) -> uint32_t {
    uint32_t x = static_cast<unsigned char>(b[i]), y = static_cast<unsigned char>(b[i + 1]);
    return le ? (x | (y << 8)) : ((x << 8) | y);
  };
  auto u32 = [&](size_t i) -> uint32_t {
    return le ? (u16(i) | (u16(i + 2) << 16)) : ((u16(i) << 16) | u16(i + 2));
  };
  uint32_t ifd = u32(4);
  if (ifd < 8 || static_cast<size_t>(ifd) + 2 > b.size()) return std::nullopt;
  uint32_t count = u16(ifd);
  uint32_t w = 0, h = 0;
  for (uint32_t k = 0; k < count; ++k) {
    size_t e = ifd + 2 + static_cast<size_t>(k) * 12;
    if (e + 12 > b.size()) break;
    uint32_t tag = u16(e), type = u16(e + 2);
    uint32_t value = type == 3 ? u16(e + 8) : type == 4 ? u32(e + 8) : 0;
    if (tag == 256) w = value;
    if (tag == 257) h = value;
  }
  if (w == 0 || h == 0 || w > 0x7FFFFFFF || h > 0x7FFFFFFF) return std::nullopt;
  return ImageSize{static_cast<int>(w), static_cast<int>(h)};
}

}  // namespace

FileKind SniffFileKind(std::string_view b) {
  if (StartsWith(b, "\xFF\xD8\xFF")) return FileKind::kJpeg;
  if (StartsWith(b, "\x89PNG\r\n\x1A\n")) return FileKind::kPng;
  if (StartsWith(b, std::string_view("II*\0", 4)) || StartsWith(b, std::string_view("MM\0*", 4)))
    return FileKind::kTiff;
  // A PDF header may follow some junk (up to 1 KiB, as readers allow).
  if (b.substr(0, 1024).find("%PDF-") != std::string_view::npos) return FileKind::kPdf;
  return FileKind::kUnknown;
}

const char* MimeTypeFor(FileKind kind) {
  switch (kind) {
    case FileKind::kJpeg: return "image/jpeg";
    case FileKind::kPng: return "image/png";
    case FileKind::kTiff: return "image/tiff";
    case FileKind::kPdf: return "application/pdf";
    case FileKind::kUnknown: break;
  }
  return "application/octet-stream";
}

const char* ExtensionFor(FileKind kind) {
  switch (kind) {
    case FileKind::kJpeg: return "jpg";
    case FileKind::kPng: return "png";
    case FileKind::kTiff: return "tif";
    case FileKind::kPdf: return "pdf";
    case FileKind::kUnknown: break;
  }
  return "bin";
}

std::optional<ImageSize> ReadImageSize(std::string_view bytes, FileKind kind) {
  switch (kind) {
    case FileKind::kJpeg: return JpegSize(bytes);
    case FileKind::kPng: return PngSize(bytes);
    case FileKind::kTiff: return TiffSize(bytes);
    default: return std::nullopt;
  }
}

}  // namespace ncbocr
