// Fuzz target: NCB's answers to a claim submission (ncb_http.cc), as the
// submit stage reads them: status, Retry-After header and JSON body.
// Input: "=== <status> [retry-after=<value>]" then the body (fuzz_support.h).
#include "fuzz_support.h"
#include "ncbocr/ncb_http.h"
#include "ncbocr/submit_stage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ncbocr;
  std::deque<HttpResponse> answers = fuzz::ParseAnswers(fuzz::AsView(data, size));
  // The client as submit uses it: the first answer, or the retry after a
  // lost one (status 0) with the next.
  NcbHttpClient client("https://ncb.test/api/v1", "key",
                       std::make_unique<fuzz::ScriptedHttp>(answers), NullLogger());
  (void)client.Submit("{}", "idem-key");
  for (const HttpResponse& r : answers) {
    NcbResponse out = ParseNcbResponse(r);
    (void)IsNcbDown(out);
    if (auto ra = r.headers.find("retry-after"); ra != r.headers.end()) {
      (void)ParseRetryAfter(ra->second, std::chrono::system_clock::time_point{});
    }
  }
  return 0;
}
