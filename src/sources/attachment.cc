// Attachment rules (see attachment.h): which parts are receipts, and safe file names.
#include "ncbocr/attachment.h"

#include <cstdint>

namespace ncbocr {
namespace {

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
