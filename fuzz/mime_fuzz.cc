// Fuzz target: an email as it arrives from anyone (Maildir file, Gmail raw,
// IMAP BODY[]), through the MIME parser and the text helpers it uses.
#include <array>

#include "fuzz_support.h"
#include "ncbocr/mime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ncbocr;
  std::string_view raw = fuzz::AsView(data, size);

  // Default limits, and tight ones so the "cut here" paths run too.
  (void)ParseEmail(raw);
  MimeLimits tight;
  tight.max_depth = 3;
  tight.max_header_bytes = 16;
  tight.max_text_bytes = 64;
  tight.max_parts = 2;
  (void)ParseEmail(raw, tight);

  // The charset and HTML helpers on their own, with a charset picked by the input.
  static const std::array<const char*, 7> kCharsets = {
      "", "utf-8", "iso-8859-1", "windows-1252", "gb2312", "utf-16", "no-such-charset"};
  std::string note;
  (void)ToUtf8(raw, kCharsets[size % kCharsets.size()], &note);
  (void)HtmlToText(raw);
  (void)MakeValidUtf8(raw);
  (void)TruncateUtf8(raw, size / 2);
  return 0;
}
