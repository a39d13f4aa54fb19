// Shared pieces of the libFuzzer targets: splitting one input into the
// several strings a parser needs, and a scripted HTTP client that hands the
// fuzzer's bytes to code that normally reads answers from a server.
//
// Inputs are text in a small line format so that seed files stay readable
// and a crash found by the fuzzer can be read, cut down and kept as a
// regression input by hand:
//
//   first line            what to exercise (target specific, e.g. "gmail.list")
//   "=== <status>" line   starts one HTTP answer; the lines up to the next
//                         "=== " line (or the end) are its body
//
// Nothing here may hide a failure: the targets call the real parsers, and a
// crash, leak or undefined behaviour inside them is what the fuzzer reports.
#ifndef NCBOCR_FUZZ_SUPPORT_H_
#define NCBOCR_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ncbocr/http.h"
#include "ncbocr/log.h"

namespace ncbocr::fuzz {

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The first line (without "\n") and the rest.
inline std::pair<std::string_view, std::string_view> FirstLine(std::string_view s) {
  size_t nl = s.find('\n');
  if (nl == std::string_view::npos) return {s, {}};
  return {s.substr(0, nl), s.substr(nl + 1)};
}

// Splits s at every `sep` byte (at most max_pieces pieces; the last keeps the rest).
inline std::vector<std::string> Split(std::string_view s, char sep, size_t max_pieces) {
  std::vector<std::string> out;
  while (out.size() + 1 < max_pieces) {
    size_t at = s.find(sep);
    if (at == std::string_view::npos) break;
    out.emplace_back(s.substr(0, at));
    s.remove_prefix(at + 1);
  }
  out.emplace_back(s);
  return out;
}

// "=== 200\n{...}\n=== 404\n..." -> answers in order. A status that is not a
// number is read as 200; headers are not scripted except Retry-After, taken
// from "=== 429 retry-after=<value>".
inline std::deque<HttpResponse> ParseAnswers(std::string_view s) {
  std::deque<HttpResponse> out;
  constexpr std::string_view kMark = "=== ";
  size_t pos = s.find(kMark);
  while (pos != std::string_view::npos) {
    size_t eol = s.find('\n', pos);
    std::string_view head = s.substr(pos + kMark.size(),
                                     eol == std::string_view::npos ? std::string_view::npos
                                                                   : eol - pos - kMark.size());
    size_t body_at = eol == std::string_view::npos ? s.size() : eol + 1;
    size_t next = s.find("\n=== ", body_at == 0 ? 0 : body_at - 1);
    HttpResponse r;
    r.status = std::atoi(std::string(head.substr(0, 4)).c_str());
    if (r.status < 0 || r.status > 999) r.status = 200;
    if (size_t ra = head.find("retry-after="); ra != std::string_view::npos) {
      r.headers["retry-after"] = std::string(head.substr(ra + 12));
    }
    if (r.status == 0) {  // an answer lost on the way (after the server acted, maybe)
      r.error = "scripted: connection reset";
      r.transport = TransportError::kReset;
    }
    size_t end = next == std::string_view::npos ? s.size() : next;
    if (body_at < end) r.body = std::string(s.substr(body_at, end - body_at));
    out.push_back(std::move(r));
    pos = next == std::string_view::npos ? next : next + 1;
  }
  return out;
}

// An HttpClient whose answers are scripted; once they run out every call
// gets "no answer" (status 0), as a server that went away would.
class ScriptedHttp : public HttpClient {
 public:
  explicit ScriptedHttp(std::deque<HttpResponse> answers) : answers_(std::move(answers)) {}
  Result<HttpResponse> Send(const HttpRequest&) override {
    if (++calls_ > 64 || answers_.empty()) {
      HttpResponse none;
      none.error = "scripted: no more answers";
      none.transport = TransportError::kConnect;
      return none;
    }
    HttpResponse r = std::move(answers_.front());
    answers_.pop_front();
    return r;
  }

 private:
  std::deque<HttpResponse> answers_;
  int calls_ = 0;
};

// Options that never sleep and try each request once: the fuzzer wants
// executions, not backoff.
inline HttpOptions NoWaitOptions() {
  HttpOptions o;
  o.max_attempts = 1;
  o.backoff_base = std::chrono::milliseconds(0);
  o.backoff_cap = std::chrono::milliseconds(0);
  o.sleep = [](std::chrono::milliseconds) {};
  return o;
}

}  // namespace ncbocr::fuzz

#endif  // NCBOCR_FUZZ_SUPPORT_H_
