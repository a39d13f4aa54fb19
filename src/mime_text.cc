// Text helpers of mime.h: charset conversion, UTF-8 repair, HTML to text.
//
// Kept apart from mime.cc because none of this needs GMime's tree, only its
// iconv wrapper, and because it is exercised by tests on its own.
#include <gmime/gmime.h>
#include <iconv.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "ncbocr/mime.h"

namespace ncbocr {
namespace {

const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

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

bool StartsWithNoCase(std::string_view s, size_t i, std::string_view prefix) {
  if (i + prefix.size() > s.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k) {
    char c = s[i + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[k]) return false;
  }
  return true;
}

// Decodes the character reference at html[i] ('&'); returns the text and
// sets *consumed. An unknown or malformed reference stays as written.
std::string DecodeEntity(std::string_view html, size_t i, size_t* consumed) {
  static const struct { const char* name; uint32_t cp; } kNamed[] = {
      {"amp", '&'},     {"lt", '<'},        {"gt", '>'},       {"quot", '"'},
      {"apos", '\''},   {"nbsp", ' '},      {"copy", 0xA9},    {"reg", 0xAE},
      {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"lsquo", 0x2018},
      {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"bull", 0x2022},
      {"middot", 0xB7}, {"euro", 0x20AC},   {"pound", 0xA3},   {"yen", 0xA5},
      {"cent", 0xA2},   {"times", 0xD7},    {"divide", 0xF7},  {"deg", 0xB0},
  };
  size_t semi = html.find(';', i);
  *consumed = 1;
  if (semi == std::string_view::npos || semi - i > 12) return "&";
  std::string_view ref = html.substr(i + 1, semi - i - 1);
  std::string out;
  if (!ref.empty() && ref[0] == '#') {
    bool hex = ref.size() > 1 && (ref[1] == 'x' || ref[1] == 'X');
    std::string_view digits = ref.substr(hex ? 2 : 1);
    if (digits.empty()) return "&";
    uint32_t cp = 0;
    for (char c : digits) {
      int v = (c >= '0' && c <= '9') ? c - '0'
              : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (v < 0) return "&";
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
      if (cp > 0x10FFFF) break;
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    AppendUtf8(out, cp);
    *consumed = semi - i + 1;
    return out;
  }
  for (const auto& e : kNamed) {
    if (ref == e.name) {
      AppendUtf8(out, e.cp);
      *consumed = semi - i + 1;
      return out;
    }
  }
  return "&";
}

// The end of the tag that starts at html[i] ('<'): one past its '>',
// skipping quoted attribute values.
size_t TagEnd(std::string_view html, size_t i) {
  char quote = 0;
  for (size_t k = i + 1; k < html.size(); ++k) {
    char c = html[k];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return k + 1;
    }
  }
  return html.size();
}

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
  void Text(const std::string& s) {
    for (char c : s) Char(c);
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

}  // namespace

std::string HtmlToText(std::string_view html) {
  static const char* kSkipWithContent[] = {"script", "style", "head", "title", "template",
                                           "noscript"};
  static const char* kParagraph[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6",
                                     "table", "ul", "ol", "blockquote", "pre"};
  static const char* kLine[] = {"div", "tr", "li", "section", "article", "header", "footer",
                                "hr", "address", "dt", "dd", "center", "form", "fieldset",
                                "tbody", "thead", "tfoot", "caption"};
  TextBuilder out;
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '&') {
      size_t consumed = 1;
      out.Text(DecodeEntity(html, i, &consumed));
      i += consumed;
      continue;
    }
    if (c != '<') {
      out.Char(c);
      ++i;
      continue;
    }
    if (StartsWithNoCase(html, i, "<!--")) {
      size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    size_t end = TagEnd(html, i);
    size_t k = i + 1;
    bool closing = k < html.size() && html[k] == '/';
    if (closing) ++k;
    std::string name;
    while (k < html.size() && name.size() < 16 &&
           (std::isalnum(static_cast<unsigned char>(html[k])))) {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[k])));
      ++k;
    }
    if (name.empty() && !closing && (k >= html.size() || (html[k] != '!' && html[k] != '?'))) {
      out.Char('<');  // a lone '<' in text
      ++i;
      continue;
    }
    i = end;
    if (!closing) {
      bool skipped = false;
      for (const char* s : kSkipWithContent) {
        if (name != s) continue;
        size_t close = i;
        std::string marker = std::string("</") + s;
        while (close < html.size() && !StartsWithNoCase(html, close, marker)) ++close;
        i = close < html.size() ? TagEnd(html, close) : html.size();
        skipped = true;
        break;
      }
      if (skipped) continue;
    }
    if (name == "br") {
      out.Newline();
      continue;
    }
    if (name == "td" || name == "th") {
      out.Cell();
      continue;
    }
    bool done = false;
    for (const char* p : kParagraph) {
      if (name == p) { out.Break(2); done = true; break; }
    }
    if (done) continue;
    for (const char* l : kLine) {
      if (name == l) { out.Break(1); break; }
    }
  }
  return out.Finish();
}

}  // namespace ncbocr
