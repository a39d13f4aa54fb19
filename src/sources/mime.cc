// MIME parsing with GMime 3 (see mime.h for the contract).
//
// GMime owns the grammar; this file walks the tree it builds, decides which
// parts are the body and which are candidate attachments, and turns every
// GMime oddity into a note rather than a failure.
#include "ncbocr/mime.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <set>

#include "ncbocr/util.h"

namespace ncbocr {
namespace {

// Owns a GObject reference.
struct GObjectUnref {
  void operator()(gpointer p) const {
    if (p) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

struct GFreeDeleter {
  void operator()(char* p) const { g_free(p); }
};
using GString_ = std::unique_ptr<char, GFreeDeleter>;

// Mail text uses CRLF; readers of email.json (extraction) expect "\n".
// Trailing white space is dropped, leading white space on the first line kept.
std::string NormalizeNewlines(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  size_t start = 0;
  while (start < out.size() && out[start] == '\n') ++start;
  return out.substr(start);
}

// Reads a GMime stream from its start to its end.
std::string ReadStream(GMimeStream* stream) {
  std::string out;
  if (!stream) return out;
  g_mime_stream_reset(stream);
  char buf[65536];
  for (;;) {
    ssize_t n = g_mime_stream_read(stream, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// The transfer-decoded content of a leaf part.
std::string DecodedContent(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return {};
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(wrapper, mem.get()) < 0) return {};
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  if (!arr || arr->len == 0) return {};
  return std::string(reinterpret_cast<const char*>(arr->data), arr->len);
}

// GMime's base64 decoder silently skips characters outside the alphabet, so
// damage would go unnoticed; look at the encoded text to say so.
bool LooksLikeBadBase64(GMimePart* part) {
  if (g_mime_part_get_content_encoding(part) != GMIME_CONTENT_ENCODING_BASE64) return false;
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return false;
  std::string enc = ReadStream(g_mime_data_wrapper_get_stream(wrapper));
  size_t significant = 0;
  bool seen_pad = false;
  for (unsigned char c : enc) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      seen_pad = true;
      ++significant;
      continue;
    }
    if (!(std::isalnum(c) || c == '+' || c == '/')) return true;
    if (seen_pad) return true;  // data after the end padding
    ++significant;
  }
  return significant % 4 != 0;
}

const char* WarningNote(GMimeParserWarning code) {
  switch (code) {
    case GMIME_WARN_MALFORMED_MULTIPART: return "multipart without parts (wrong boundary?)";
    case GMIME_WARN_TRUNCATED_MESSAGE: return "message truncated";
    case GMIME_WARN_MALFORMED_MESSAGE: return "malformed message";
    case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid content type read as octet-stream";
    case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid header name";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
    case GMIME_CRIT_NESTING_OVERFLOW: return "MIME nesting too deep, inner parts not read";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part without headers or content";
    default: return nullptr;  // duplicated headers and the like: harmless
  }
}

// Parser warnings are collected as notes, once each; the offending item is
// not kept because it may be a name or an address.
void OnParserWarning(gint64, GMimeParserWarning code, const gchar*, gpointer user_data) {
  auto* notes = static_cast<std::set<std::string>*>(user_data);
  if (const char* note = WarningNote(code)) notes->insert(note);
}

class Walker {
 public:
  Walker(const MimeLimits& limits, ParsedEmail& out) : limits_(limits), out_(out) {}

  void Walk(GMimeObject* obj, int depth) {
    if (!obj) return;
    if (depth > limits_.max_depth) {
      Note("nesting deeper than " + std::to_string(limits_.max_depth) + " levels not read");
      return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
      // A forwarded message: its attachments are as much the member's as ours.
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner) Walk(g_mime_message_get_mime_part(inner), depth + 1);
      return;
    }
    if (GMIME_IS_MESSAGE_PARTIAL(obj)) {
      Note("message/partial fragment not read");
      return;
    }
    if (GMIME_IS_MULTIPART_ENCRYPTED(obj)) {
      Note("encrypted part not readable");
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      if (n == 0) {
        // Without a usable boundary GMime leaves the whole body in the
        // preface; it is still the member's text.
        const char* preface = g_mime_multipart_get_prologue(mp);
        if (preface && *preface) AddText(preface, "", false);
        Note("multipart without parts (missing or wrong boundary)");
      }
      for (int i = 0; i < n; ++i) Walk(g_mime_multipart_get_part(mp, i), depth + 1);
      return;
    }
    if (GMIME_IS_PART(obj)) Leaf(GMIME_PART(obj));
  }

  void Finish() {
    const std::vector<std::string>& chosen = HasContent(plain_) ? plain_ : html_;
    std::string text;
    for (const std::string& t : chosen) {
      if (Trim(t).empty()) continue;
      if (!text.empty()) text += "\n\n";
      text += t;
    }
    if (text.size() > limits_.max_text_bytes) {
      text = TruncateUtf8(text, limits_.max_text_bytes);
      Note("body text cut to " + std::to_string(limits_.max_text_bytes) + " bytes");
    }
    out_.info.text = std::move(text);
  }

 private:
  static bool HasContent(const std::vector<std::string>& v) {
    return std::any_of(v.begin(), v.end(), [](const std::string& t) { return !Trim(t).empty(); });
  }

  void Note(const std::string& note) {
    if (std::find(out_.notes.begin(), out_.notes.end(), note) == out_.notes.end())
      out_.notes.push_back(note);
  }

  void AddText(const std::string& decoded, const std::string& charset, bool html) {
    std::string note;
    std::string utf8 = ToUtf8(decoded, charset, &note);
    if (!note.empty()) Note("body: " + note);
    if (html) {
      html_.push_back(HtmlToText(utf8));
    } else {
      plain_.push_back(NormalizeNewlines(utf8));
    }
  }

  void Leaf(GMimePart* part) {
    GMimeObject* obj = GMIME_OBJECT(part);
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    std::string type = "application/octet-stream";
    if (ct) {
      GString_ mt(g_mime_content_type_get_mime_type(ct));
      if (mt) type = AsciiLower(mt.get());
    }
    GMimeContentDisposition* disp = g_mime_object_get_content_disposition(obj);
    bool attachment = disp && g_mime_content_disposition_is_attachment(disp);
    int candidate_index = static_cast<int>(out_.parts.size());

    bool bad_base64 = LooksLikeBadBase64(part);
    if ((type == "text/plain" || type == "text/html") && !attachment) {
      if (bad_base64) Note("body: invalid base64");
      const char* cs = g_mime_object_get_content_type_parameter(obj, "charset");
      AddText(DecodedContent(part), cs ? cs : "", type == "text/html");
      return;
    }
    if (out_.parts.size() >= limits_.max_parts) {
      Note("more than " + std::to_string(limits_.max_parts) + " parts; the rest not read");
      return;
    }
    if (bad_base64) Note("part " + std::to_string(candidate_index + 1) + ": invalid base64");

    MimePart mp;
    mp.index = candidate_index;
    const char* name = g_mime_part_get_filename(part);
    if (name) mp.filename = TruncateUtf8(MakeValidUtf8(name), limits_.max_header_bytes);
    mp.content_type = type;
    const char* cid = g_mime_part_get_content_id(part);
    if (cid) mp.content_id = TruncateUtf8(MakeValidUtf8(cid), limits_.max_header_bytes);
    mp.is_inline = !attachment;
    mp.bytes = DecodedContent(part);
    out_.parts.push_back(std::move(mp));
  }

  const MimeLimits& limits_;
  ParsedEmail& out_;
  std::vector<std::string> plain_;
  std::vector<std::string> html_;
};

std::string AddressList(InternetAddressList* list) {
  if (!list || internet_address_list_length(list) == 0) return {};
  GString_ s(internet_address_list_to_string(list, nullptr, FALSE));
  return s ? std::string(s.get()) : std::string();
}

// The first mailbox's address, looking inside groups.
std::string FirstAddress(InternetAddressList* list, int depth = 0) {
  if (!list || depth > 4) return {};
  int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
      if (addr && *addr) return addr;
    } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      std::string a = FirstAddress(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                                   depth + 1);
      if (!a.empty()) return a;
    }
  }
  return {};
}

// The message with every field of its top-level header cut to max_field
// bytes (continuation lines included); *cut says whether any was. The body
// is left as it is.
std::string CapHeaderFields(std::string_view raw, size_t max_field, bool* cut) {
  *cut = false;
  std::string out;
  size_t i = 0, field = 0;
  while (i < raw.size()) {
    size_t nl = raw.find('\n', i);
    size_t end = nl == std::string_view::npos ? raw.size() : nl + 1;
    std::string_view line = raw.substr(i, end - i);
    if (line == "\n" || line == "\r\n") break;  // end of the header
    bool continuation = line[0] == ' ' || line[0] == '\t';
    if (!continuation) field = 0;
    if (field + line.size() <= max_field) {
      out.append(line);
    } else {
      *cut = true;
      if (field < max_field) {
        out.append(line.substr(0, max_field - field));
        out += "\r\n";
      }
    }
    field += line.size();
    i = end;
  }
  out.append(raw.substr(i));
  return out;
}

}  // namespace

void InitGMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

Result<ParsedEmail> ParseEmail(std::string_view raw, const MimeLimits& limits) {
  if (Trim(std::string(raw.substr(0, std::min<size_t>(raw.size(), 4096)))).empty())
    return Status::Permanent("empty message");
  InitGMime();

  bool header_cut = false;
  std::string capped = CapHeaderFields(raw, limits.max_raw_header_field, &header_cut);
  raw = capped;
  std::set<std::string> parser_notes;
  if (header_cut) {
    parser_notes.insert("header field over " + std::to_string(limits.max_raw_header_field) +
                        " bytes cut before parsing");
  }
  GMimeParserOptions* options = g_mime_parser_options_new();
  const char* fallback[] = {"UTF-8", "windows-1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(options, fallback);
  g_mime_parser_options_set_warning_callback(options, &OnParserWarning, &parser_notes);

  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), options));
  g_mime_parser_options_free(options);
  if (!message) return Status::Permanent("not an email: no message headers found");

  GMimeObject* mobj = GMIME_OBJECT(message.get());
  GMimeHeaderList* headers = g_mime_object_get_header_list(mobj);
  if (!headers || g_mime_header_list_get_count(headers) == 0)
    return Status::Permanent("not an email: no message headers found");

  ParsedEmail out;
  auto keep = [&](const std::string& v) {
    std::string s = MakeValidUtf8(v);
    if (s.size() > limits.max_header_bytes) {
      s = TruncateUtf8(s, limits.max_header_bytes);
      std::string note = "long header cut to " + std::to_string(limits.max_header_bytes) + " bytes";
      if (std::find(out.notes.begin(), out.notes.end(), note) == out.notes.end())
        out.notes.push_back(note);
    }
    return s;
  };
  InternetAddressList* from = g_mime_message_get_from(message.get());
  out.info.from = keep(AddressList(from));
  out.info.from_address = keep(FirstAddress(from));
  out.info.to = keep(AddressList(g_mime_message_get_to(message.get())));
  const char* subject = g_mime_message_get_subject(message.get());
  out.info.subject = keep(subject ? subject : "");
  const char* date = g_mime_object_get_header(mobj, "Date");
  out.info.date = keep(date ? Trim(date) : "");
  const char* mid = g_mime_message_get_message_id(message.get());
  out.info.message_id = keep(mid ? mid : "");

  Walker walker(limits, out);
  walker.Walk(g_mime_message_get_mime_part(message.get()), 0);
  walker.Finish();
  for (const std::string& n : parser_notes) {
    if (std::find(out.notes.begin(), out.notes.end(), n) == out.notes.end())
      out.notes.push_back(n);
  }
  return out;
}

}  // namespace ncbocr
