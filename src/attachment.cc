// Attachment rules (see attachment.h): sniffing, image headers, file names.
#include "ncbocr/attachment.h"

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

// Decodes one UTF-8 code point at s[i]; returns its length (0 if invalid).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    v = (v << 6) | (d & 0x3F);
  }
  if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
      v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return len;
}

// Characters dropped from names: controls, and the invisible ones that make
// "gpj.exe" display as "exe.jpg" or hide text (bidi controls, zero-width,
// byte order mark, line/paragraph separators).
bool IsDropped(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x00AD ||
         (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB);
}

// Characters replaced with '_': path separators, shell and Windows specials.
bool IsReplaced(uint32_t cp) {
  switch (cp) {
    case '/': case '\\': case ':': case '*': case '?': case '"': case '<': case '>':
    case '|': case '$': case '`': case ';': case '&': case '\'':
      return true;
    default:
      return false;
  }
}

std::string FormatBytes(long long n) {
  if (n >= 1024 * 1024) return std::to_string(n / (1024 * 1024)) + " MiB";
  if (n >= 1024) return std::to_string(n / 1024) + " KiB";
  return std::to_string(n) + " bytes";
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

std::string SanitizeFilename(std::string_view name, FileKind kind, int index, size_t max_bytes) {
  // Base name: whatever follows the last slash of either kind.
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);

  std::string clean;
  bool space = false;
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(name, i, &cp);
    if (len == 0) {  // invalid byte: drop it
      ++i;
      continue;
    }
    std::string_view ch = name.substr(i, len);
    i += len;
    if (IsDropped(cp)) continue;
    if (cp == ' ' || cp == 0xA0 || cp == 0x3000) {
      space = true;
      continue;
    }
    if (space && !clean.empty()) clean += ' ';
    space = false;
    if (IsReplaced(cp)) {
      clean += '_';
    } else if (cp == '.' && !clean.empty() && clean.back() == '.') {
      continue;  // no ".." anywhere
    } else {
      clean.append(ch);
    }
  }
  // No hidden files, no leading dashes that look like options.
  size_t start = clean.find_first_not_of(".-_ ");
  clean = start == std::string::npos ? std::string() : clean.substr(start);

  // Stem: without the sender's extension; the sniffed one replaces it.
  size_t dot = clean.rfind('.');
  std::string stem = dot == std::string::npos ? clean : clean.substr(0, dot);
  while (!stem.empty() && (stem.back() == '.' || stem.back() == ' ')) stem.pop_back();
  std::string ext = std::string(".") + ExtensionFor(kind);
  if (stem.empty()) stem = "attachment-" + std::to_string(index + 1);

  size_t room = max_bytes > ext.size() ? max_bytes - ext.size() : 1;
  if (stem.size() > room) {
    size_t end = room;
    while (end > 0 && (static_cast<unsigned char>(stem[end]) & 0xC0) == 0x80) --end;
    stem.resize(end);
    while (!stem.empty() && stem.back() == ' ') stem.pop_back();
    if (stem.empty()) stem = "attachment-" + std::to_string(index + 1);
  }
  return stem + ext;
}

AttachmentDecision ClassifyAttachment(const MimePart& part, const FetchConfig& config) {
  AttachmentDecision d;
  d.kind = SniffFileKind(part.bytes);
  long long size = static_cast<long long>(part.bytes.size());
  std::string declared = part.content_type.empty() ? "no type" : part.content_type;
  // The declared type is sender text; keep only a plain type/subtype token.
  if (declared.size() > 60 || declared.find_first_of(" \t\r\n;,\"") != std::string::npos)
    declared = "other type";
  std::string label = "part " + std::to_string(part.index + 1) + " (" + declared + ", " +
                      FormatBytes(size) + "): ";
  if (d.kind == FileKind::kUnknown) {
    d.reason = label + (size == 0 ? "empty" : "not a JPEG, PNG, TIFF or PDF");
    return d;
  }
  if (size > config.max_attachment_bytes) {
    d.reason = label + "over fetch.max_attachment_bytes (" +
               FormatBytes(config.max_attachment_bytes) + ")";
    return d;
  }
  if (IsImage(d.kind)) {
    std::optional<ImageSize> dim = ReadImageSize(part.bytes, d.kind);
    if (size < config.min_image_bytes) {
      // Few bytes are a logo, unless the header claims a page-sized image:
      // those pixels cannot fit in so few bytes.
      if (dim && dim->width >= config.min_image_pixels && dim->height >= config.min_image_pixels) {
        d.reason = label + "image header claims " + std::to_string(dim->width) + "x" +
                   std::to_string(dim->height) + " pixels in only " + FormatBytes(size) +
                   ": truncated or not a real image";
      } else {
        d.reason = label + "image too small to be a receipt (logo or signature?)";
      }
      return d;
    }
    if (!dim) {
      d.reason = label + "unreadable image header";
      return d;
    }
    if (dim->width < config.min_image_pixels || dim->height < config.min_image_pixels) {
      d.reason = label + "image " + std::to_string(dim->width) + "x" +
                 std::to_string(dim->height) + " too small to be a receipt (logo or signature?)";
      return d;
    }
  }
  d.accept = true;
  d.filename = SanitizeFilename(part.filename, d.kind, part.index);
  return d;
}

}  // namespace ncbocr
