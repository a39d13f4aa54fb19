// Text helpers of mime.h: charset conversion, UTF-8 repair, HTML to text.
//
// Kept apart from mime.cc because none of this needs GMime's tree, only its
// iconv wrapper, and because it is exercised by tests on its own.
#include <gmime/gmime.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>

#include "ncbocr/mime.h"

namespace ncbocr {
namespace {

const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one
// (overlong forms, surrogates and values past U+10FFFF are invalid).
size_t ValidSequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2; cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3; cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4; cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = ValidSequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Converts with iconv, replacing each undecodable byte with U+FFFD and going
// on, where g_convert would give up on the whole text. False if iconv does
// not know the charset.
bool ConvertLossy(std::string_view in, const std::string& charset, std::string* out,
                  int* replaced) {
  iconv_t cd = g_mime_iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  char* inbuf = const_cast<char*>(in.data());
  size_t inleft = in.size();
  char buf[8192];
  while (inleft > 0) {
    char* outbuf = buf;
    size_t outleft = sizeof buf;
    size_t rc = iconv(cd, &inbuf, &inleft, &outbuf, &outleft);
    out->append(buf, static_cast<size_t>(outbuf - buf));
    if (rc != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) continue;
    out->append(kReplacement);
    ++*replaced;
    if (errno == EINVAL) break;  // truncated sequence at the end
    ++inbuf;                     // EILSEQ: skip one byte and resynchronise
    --inleft;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  g_mime_iconv_close(cd);
  return true;
}

}  // namespace

std::string MakeValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = ValidSequenceLength(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t end = max_bytes;
  // Step back over continuation bytes to the start of the cut sequence.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

std::string ToUtf8(std::string_view bytes, const std::string& charset, std::string* note) {
  std::string cs = LowerAscii(charset);
  auto set_note = [&](const std::string& n) {
    if (note) *note = n;
  };
  if (cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
    if (!IsValidUtf8(bytes)) set_note("invalid bytes for charset " + cs + " replaced");
    return MakeValidUtf8(bytes);
  }
  if (!cs.empty()) {
    std::string out;
    int replaced = 0;
    if (ConvertLossy(bytes, cs, &out, &replaced)) {
      if (replaced > 0) set_note("invalid bytes for charset " + cs + " replaced");
      return MakeValidUtf8(out);
    }
    // The charset name is free text from the sender; keep it out of notes.
    set_note("unknown charset");
  }
  if (IsValidUtf8(bytes)) return std::string(bytes);
  std::string out;
  int replaced = 0;
  if (!ConvertLossy(bytes, "windows-1252", &out, &replaced)) return MakeValidUtf8(bytes);
  if (note && note->empty()) *note = "no charset, read as windows-1252";
  return MakeValidUtf8(out);
}

namespace {

class TextBuilder {
 public:
  void Char(char c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      space_ = true;
      return;
    }
    if (space_ && !out_.empty() && out_.back() != '\n') out_ += ' ';
    space_ = false;
    out_ += c;
  }
  // Text as the parser hands it over: a no-break space is a space like any other.
  void Text(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
        Char(' ');
        ++i;
      } else {
        Char(s[i]);
      }
    }
  }
  // A line break; `lines` is how many may end the text in a row (2: a blank line).
  void Break(int lines) {
    space_ = false;
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    if (out_.empty()) return;
    int have = 0;
    for (size_t k = out_.size(); k > 0 && out_[k - 1] == '\n'; --k) ++have;
    for (; have < lines; ++have) out_ += '\n';
  }
  // <br>: always a new line, so two in a row leave a blank line.
  void Newline() {
    space_ = false;
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    if (out_.empty() || out_.ends_with("\n\n")) return;
    out_ += '\n';
  }
  void Cell() { space_ = true; }
  std::string Finish() {
    Break(0);
    while (!out_.empty() && out_.back() == '\n') out_.pop_back();
    return out_;
  }

 private:
  std::string out_;
  bool space_ = false;
};

// libxml2 2.9 keeps two costs that grow with the square of hostile input:
// each attribute of a tag is compared with every earlier one, and each end
// tag (and each <body>) searches the stack of open elements. Both are bounded
// here: a tag keeps its first kMaxAttributes attributes (none is used for
// text), and parsing stops at kMaxDepth open elements (libxml2's own limit
// for XML is 256; no mail client nests anywhere near this).
constexpr int kMaxAttributes = 64;
constexpr int kMaxDepth = 1024;

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// The input made safe for libxml2 in one pass: valid UTF-8, no NUL (libxml2
// ends the document there), and no tag with more than kMaxAttributes
// attributes. Tags are only told from text as libxml2 tells them ('<' and a
// letter, or '</'); quoted values are skipped whole, comments are copied
// whole, and a tag ends at its '>' or at the next '<' outside quotes. A tag
// within the limit is copied byte for byte: only what follows its 64th
// attribute is dropped, and then the tag is closed with a '>'.
std::string PrepareForParser(std::string_view html) {
  std::string valid;
  if (!IsValidUtf8(html)) {
    valid = MakeValidUtf8(html);
    html = valid;
  }
  std::string out;
  out.reserve(html.size());
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '\0') {
      ++i;
      continue;
    }
    if (html.compare(i, 4, "<!--") == 0) {
      size_t end = html.find("-->", i + 4);
      end = end == std::string_view::npos ? html.size() : end + 3;
      for (; i < end; ++i) {
        if (html[i] != '\0') out += html[i];
      }
      continue;
    }
    bool tag = c == '<' && i + 1 < html.size() &&
               (IsAsciiLetter(html[i + 1]) || html[i + 1] == '/');
    out += c;
    ++i;
    if (!tag) continue;
    // Inside a tag: count attributes (each run of non-space after a space,
    // outside quotes); past the limit, drop bytes up to the tag's end.
    int attributes = 0;
    bool in_space = false;
    bool closed = false;
    char quote = 0;
    while (i < html.size()) {
      char d = html[i];
      if (d == '<' && (quote == 0 || attributes > kMaxAttributes)) break;  // the next tag
      ++i;
      if (d == '\0') continue;
      if (quote) {
        if (d == quote) quote = 0;
      } else if (d == '>') {
        closed = true;
        break;
      } else if (d == '"' || d == '\'') {
        quote = d;
      } else if (IsSpace(d)) {
        in_space = true;
      } else if (in_space) {
        in_space = false;
        if (d != '=' && d != '/') ++attributes;
      }
      if (attributes <= kMaxAttributes) out += d;
    }
    if (closed || attributes > kMaxAttributes) out += '>';
  }
  return out;
}

bool NameIs(const xmlChar* name, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (xmlStrcasecmp(name, BAD_CAST n) == 0) return true;
  }
  return false;
}

// What the SAX callbacks share, reached through the parser context's _private.
struct Walk {
  TextBuilder text;
  int skipping = 0;  // open elements whose content is not text (script, head, ...)
};

bool SkipsContent(const xmlChar* name) {
  return NameIs(name, {"script", "style", "head", "title", "template", "noscript"});
}

// Block elements break the line where they start and where they end.
void BlockEdge(Walk& w, const xmlChar* name) {
  if (NameIs(name, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
                    "blockquote", "pre"})) {
    w.text.Break(2);
  } else if (NameIs(name, {"div", "tr", "li", "section", "article", "header", "footer", "hr",
                           "address", "dt", "dd", "center", "form", "fieldset", "tbody",
                           "thead", "tfoot", "caption"})) {
    w.text.Break(1);
  } else if (NameIs(name, {"td", "th"})) {
    w.text.Cell();
  }
}

Walk& WalkOf(void* ctx) {
  return *static_cast<Walk*>(static_cast<htmlParserCtxtPtr>(ctx)->_private);
}

void OnStart(void* ctx, const xmlChar* name, const xmlChar** /*attributes*/) {
  auto* parser = static_cast<htmlParserCtxtPtr>(ctx);
  if (parser->nameNr > kMaxDepth) {
    xmlStopParser(parser);
    return;
  }
  Walk& w = WalkOf(ctx);
  if (SkipsContent(name)) {
    ++w.skipping;
    return;
  }
  if (w.skipping > 0) return;
  if (NameIs(name, {"br"})) {
    w.text.Newline();
    return;
  }
  BlockEdge(w, name);
}

void OnEnd(void* ctx, const xmlChar* name) {
  Walk& w = WalkOf(ctx);
  if (SkipsContent(name)) {
    if (w.skipping > 0) --w.skipping;
    return;
  }
  if (w.skipping == 0) BlockEdge(w, name);
}

void OnText(void* ctx, const xmlChar* chars, int len) {
  Walk& w = WalkOf(ctx);
  if (w.skipping == 0) w.text.Text(std::string_view(reinterpret_cast<const char*>(chars), len));
}

void Ignore(void*, const xmlChar*, int) {}  // script and style content
void Quiet(void*, const char*, ...) {}      // parse errors: any HTML is taken as it comes
void QuietStructured(void*, xmlErrorPtr) {}

}  // namespace

std::string HtmlToText(std::string_view html) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  std::string input = PrepareForParser(html);
  if (input.empty() || input.size() > static_cast<size_t>(INT_MAX)) return "";

  htmlParserCtxtPtr parser =
      htmlCreateMemoryParserCtxt(input.data(), static_cast<int>(input.size()));
  if (parser == nullptr) return "";
  htmlSAXHandler sax{};
  sax.startElement = OnStart;
  sax.endElement = OnEnd;
  sax.characters = OnText;
  sax.ignorableWhitespace = OnText;  // libxml2's guess at blank text: still a space to us
  sax.cdataBlock = Ignore;
  sax.warning = Quiet;
  sax.error = Quiet;
  sax.fatalError = Quiet;
  sax.serror = QuietStructured;
  sax.initialized = XML_SAX2_MAGIC;
  *parser->sax = sax;
  Walk walk;
  parser->userData = parser;
  parser->_private = &walk;
  // The text is UTF-8 already (ToUtf8): a <meta charset> must not convert it again.
  xmlSwitchEncoding(parser, XML_CHAR_ENCODING_UTF8);
  htmlCtxtUseOptions(parser, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                 HTML_PARSE_NONET |
                                 HTML_PARSE_IGNORE_ENC);
  htmlParseDocument(parser);
  if (parser->myDoc != nullptr) xmlFreeDoc(parser->myDoc);
  htmlFreeParserCtxt(parser);
  return walk.text.Finish();
}

}  // namespace ncbocr
