// MIME: reads one RFC 5322 message into what fetch needs from it.
//
// ParseEmail turns the raw bytes of an email (a Maildir file, an .eml file, a
// Gmail API "raw" message or an IMAP BODY[]: all feed the same function) into
// the header fields and body text kept in email.json, plus every leaf part
// that could be an attachment. GMime does the MIME parsing; this unit adds the
// policy around it: which part is the body, charset conversion to valid UTF-8,
// HTML flattened to text, and a depth cap for nested multiparts and forwarded
// messages.
//
// Email arrives from anyone, so the input is hostile: a missing boundary,
// nesting thousands deep, broken base64, megabyte headers, bytes that are not
// in the declared charset. None of these crash or throw. What can be read is
// returned and each problem is added to `notes` (short, fixed phrases without
// personal data, safe for a manifest). Only input that yields no message at
// all is a kPermanent error naming the problem.
#ifndef NCBOCR_MIME_H_
#define NCBOCR_MIME_H_

#include <string>
#include <string_view>
#include <vector>

#include "ncbocr/email.h"
#include "ncbocr/status.h"

namespace ncbocr {

// A leaf part that is not the body text: a candidate attachment. Whether it is
// a receipt is decided by attachment.h from its bytes, not from these labels.
struct MimePart {
  int index = 0;             // 0-based, in message order among candidate parts
  std::string filename;      // as declared (decoded, UTF-8), unsanitised; may be ""
  std::string content_type;  // as declared, lower case, e.g. "image/png"
  std::string content_id;    // without <>, "" if none (inline images of HTML mail)
  bool is_inline = false;    // not marked Content-Disposition: attachment
  std::string bytes;         // transfer-decoded content
};

struct ParsedEmail {
  EmailInfo info;
  std::vector<MimePart> parts;
  std::vector<std::string> notes;  // problems met, e.g. "part 2: invalid base64"
};

struct MimeLimits {
  int max_depth = 32;              // multipart / message nesting read at most this deep
  size_t max_header_bytes = 4096;  // each kept header value is cut to this (UTF-8 safe)
  size_t max_text_bytes = 1 << 20; // body text kept at most this long
  size_t max_parts = 500;          // candidate parts beyond this are dropped (noted)
  // Each field of the message's own header is cut to this many bytes before
  // GMime sees it: GMime spends ~70 bytes of memory per word of a decoded
  // header, so an 8 MB Subject took 600 MB.
  size_t max_raw_header_field = 64 * 1024;
};

// Parses a whole message. kPermanent only when nothing resembling a message
// can be read (empty input, no headers at all).
// Initialises GMime, once per process and thread-safely; every user of
// GMime (parsing here, building alert mail in smtp.cc) calls it first.
void InitGMime();

Result<ParsedEmail> ParseEmail(std::string_view raw, const MimeLimits& limits = {});

// HTML to plain text for bodies: drops tags, comments, <script>, <style> and
// <head>; decodes character references; turns block elements (p, div, br,
// tr, li, h1-h6, ...) into line breaks; collapses other white space. Parsed
// by libxml2's HTML parser in linear time: a tag keeps its first 64
// attributes, and parsing stops (keeping the text so far) at 1024 open
// elements.
std::string HtmlToText(std::string_view html);

// Bytes in `charset` (any name iconv knows; "" means unknown) to valid UTF-8.
// Invalid sequences become U+FFFD. An unknown charset is read as UTF-8 if the
// bytes are valid UTF-8, else as windows-1252; sets *note when it guessed.
std::string ToUtf8(std::string_view bytes, const std::string& charset,
                   std::string* note = nullptr);

// Replaces invalid UTF-8 sequences with U+FFFD.
std::string MakeValidUtf8(std::string_view s);

// Cuts s to at most max_bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(std::string_view s, size_t max_bytes);

}  // namespace ncbocr

#endif  // NCBOCR_MIME_H_
