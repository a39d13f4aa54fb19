// Test fixtures for MIME, attachment and fetch tests: image files that are
// only a valid header plus padding (sniffing and size rules read no pixels),
// base64, and a small builder for multipart emails.
#ifndef NCBOCR_TESTS_MAIL_FIXTURES_H_
#define NCBOCR_TESTS_MAIL_FIXTURES_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace ncbocr::testing {

inline std::string Base64(const std::string& in, size_t line = 76) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out, cur;
  size_t i = 0;
  auto flush = [&](bool force) {
    while (cur.size() >= line || (force && !cur.empty())) {
      size_t n = std::min(line, cur.size());
      out += cur.substr(0, n) + "\r\n";
      cur.erase(0, n);
    }
  };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    cur += k[v >> 18];
    cur += k[(v >> 12) & 63];
    cur += k[(v >> 6) & 63];
    cur += k[v & 63];
    flush(false);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    cur += std::string{k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    cur += std::string{k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  flush(true);
  return out;
}

inline std::string Be16(int v) { return std::string{char((v >> 8) & 0xFF), char(v & 0xFF)}; }
inline std::string Be32(uint32_t v) { return Be16(int(v >> 16)) + Be16(int(v & 0xFFFF)); }

// Padding bytes that differ by `seed`, so two fixtures have different digests.
inline std::string Padding(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char((i * 31 + seed * 7) & 0xFF);
  return s;
}

inline std::string FakePng(int w, int h, size_t total, int seed = 0) {
  std::string s = "\x89PNG\r\n\x1A\n";
  s += Be32(13) + "IHDR" + Be32(uint32_t(w)) + Be32(uint32_t(h)) + std::string("\x08\x02\0\0\0", 5);
  s += Be32(0);  // CRC, not checked
  if (s.size() < total) s += Padding(total - s.size(), seed);
  return s;
}

inline std::string FakeJpeg(int w, int h, size_t total, int seed = 0) {
  std::string s = "\xFF\xD8";
  s += "\xFF\xE0" + Be16(16) + std::string("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 14);
  s += "\xFF\xC0" + Be16(17) + std::string("\x08") + Be16(h) + Be16(w) +
       std::string("\x03\x01\x22\0\x02\x11\x01\x03\x11\x01", 10);
  if (s.size() + 2 < total) s += Padding(total - s.size() - 2, seed);
  return s + "\xFF\xD9";
}

inline std::string FakeTiffLe(int w, int h, size_t total, int seed = 0) {
  auto le16 = [](int v) { return std::string{char(v & 0xFF), char((v >> 8) & 0xFF)}; };
  auto le32 = [&](uint32_t v) { return le16(int(v & 0xFFFF)) + le16(int(v >> 16)); };
  std::string s = std::string("II*\0", 4) + le32(8) + le16(2);
  s += le16(256) + le16(4) + le32(1) + le32(uint32_t(w));  // ImageWidth LONG
  s += le16(257) + le16(3) + le32(1) + le16(h) + le16(0);  // ImageLength SHORT
  s += le32(0);
  if (s.size() < total) s += Padding(total - s.size(), seed);
  return s;
}

inline std::string FakePdf(int seed = 0) {
  return "%PDF-1.4\n%fake\n" + std::string(200, char('a' + seed % 26)) + "\n%%EOF\n";
}

struct TestPart {
  std::string type;         // "image/jpeg"
  std::string filename;     // "" for none
  std::string bytes;
  bool inline_ = false;
};

// A multipart/mixed email: a text/plain body plus base64 parts.
inline std::string MakeEmail(const std::string& body, const std::vector<TestPart>& parts,
                             const std::string& subject = "Claim",
                             const std::string& message_id = "m1@example.test") {
  std::string b = "XyZzY-boundary";
  std::string s = "From: Siti Aminah <siti@example.test>\r\nTo: claims@example.test\r\n"
                  "Subject: " + subject + "\r\nDate: Tue, 17 Dec 2024 10:42:00 +0800\r\n"
                  "Message-ID: <" + message_id + ">\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n";
  s += "--" + b + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
  for (const TestPart& p : parts) {
    s += "--" + b + "\r\nContent-Type: " + p.type + "\r\nContent-Transfer-Encoding: base64\r\n";
    s += std::string("Content-Disposition: ") + (p.inline_ ? "inline" : "attachment");
    if (!p.filename.empty()) s += "; filename=\"" + p.filename + "\"";
    s += "\r\n\r\n" + Base64(p.bytes);
  }
  s += "--" + b + "--\r\n";
  return s;
}

}  // namespace ncbocr::testing

#endif  // NCBOCR_TESTS_MAIL_FIXTURES_H_
