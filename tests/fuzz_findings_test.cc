// What the fuzz targets (fuzz/) found, pinned as behaviour: each case is a
// crash, an uncaught exception or undefined behaviour that hostile or broken
// input once caused, and the answer the code gives now. The inputs
// themselves are replayed by scripts/fuzz.sh from fuzz/regressions/; these
// tests say what the right answer is, and run in every build.
#include <doctest/doctest.h>

#include "../fuzz/fuzz_support.h"
#include "ncbocr/gmail_source.h"
#include "ncbocr/google_archive.h"
#include "ncbocr/google_auth.h"
#include "ncbocr/http.h"
#include "ncbocr/ncb_http.h"
#include "ncbocr/ocr.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using nlohmann::json;

class FixedToken : public TokenSource {
 public:
  Result<std::string> Token() override { return std::string("t"); }
  void Invalidate() override {}
};

HttpResponse Answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::unique_ptr<HttpClient> Answers(std::deque<HttpResponse> answers) {
  return std::make_unique<fuzz::ScriptedHttp>(std::move(answers));
}

TEST_CASE("fuzz findings: a Retry-After date centuries ahead is a long wait, not an overflow") {
  auto now = std::chrono::system_clock::from_time_t(1795946400);  // 2026-11-29T10:00:00Z
  CHECK(ParseRetryAfter("Sun, 29 Nov 2426 10:00:00 GMT", now) == 999999999);
  CHECK(ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now) == 999999999);
  CHECK(ParseRetryAfter("Sun, 29 Nov 2026 10:00:30 GMT", now) == 30);
}

TEST_CASE("fuzz findings: ISO times past what the clock can hold are refused") {
  CHECK_FALSE(ParseIso("4048-12-18T02:42:00Z").has_value());
  CHECK_FALSE(ParseIso("9999-01-01").has_value());
  CHECK_FALSE(ParseIso("2024-12-18T-1:42:00Z").has_value());
  REQUIRE(ParseIso("2024-12-18T02:42:00Z").has_value());
  CHECK(std::chrono::system_clock::to_time_t(*ParseIso("2024-12-18T02:42:00Z")) == 1734489720);
}

TEST_CASE("fuzz findings: OCR JSON numbers too large for an int read as absent") {
  auto doc = OcrDocument::FromJson(json::parse(
      R"({"pages":[{"width":1e300,"height":-1e300,"rotation":4294967296,"index":3,
          "lines":[{"text":"TOTAL 9.00","box":[1e300,2,3.5,4]}]}]})"));
  REQUIRE(doc.ok());
  REQUIRE(doc->pages.size() == 1);
  const OcrPage& p = doc->pages[0];
  CHECK(p.width == 0);
  CHECK(p.height == 0);
  CHECK(p.rotation == 0);
  CHECK(p.index == 3);
  REQUIRE(p.lines.size() == 1);
  CHECK(p.lines[0].box.x == 0);
  CHECK(p.lines[0].box.y == 2);
  CHECK(p.lines[0].box.w == 3);
  // A field of the wrong type is still malformed JSON, as before.
  CHECK_FALSE(OcrDocument::FromJson(json::parse(R"({"pages":[{"width":"wide"}]})")).ok());
}

TEST_CASE("fuzz findings: NCB's retry_after body field is clamped, never converted out of range") {
  NcbResponse r = ParseNcbResponse(Answer(429, R"({"error_code":"RATE_LIMITED","retry_after":1e300})"));
  CHECK(r.retry_after == 999999999);
  CHECK(r.error_code == "RATE_LIMITED");
  CHECK(ParseNcbResponse(Answer(429, R"({"retry_after":-5})")).retry_after == 0);
  CHECK(ParseNcbResponse(Answer(429, R"({"retry_after":12.7})")).retry_after == 12);
}

TEST_CASE("fuzz findings: a token lifetime is 3600 unless a sane number says otherwise") {
  CHECK(TokenLifetime(json::parse(R"({"expires_in":3599})")) == 3599);
  CHECK(TokenLifetime(json::parse(R"({"expires_in":1e300})")) == 86400);
  CHECK(TokenLifetime(json::parse(R"({"expires_in":-7})")) == 0);
  CHECK(TokenLifetime(json::parse(R"({"expires_in":"3599"})")) == 3600);
  CHECK(TokenLifetime(json::parse(R"([1, 2])")) == 3600);
  CHECK(TokenLifetime(json::parse(R"("text")")) == 3600);
}

TEST_CASE("fuzz findings: a code exchange answered with odd JSON is an error value, not an exception") {
  OAuthClient client;
  client.token_uri = "https://oauth.test/token";
  HttpOptions options = fuzz::NoWaitOptions();
  auto exchange = [&](HttpResponse r) {
    fuzz::ScriptedHttp http({std::move(r)});
    return ExchangeAuthCode(http, options, client, "code", "http://127.0.0.1:1/", "v", {kGmailScope},
                            std::chrono::system_clock::from_time_t(0));
  };
  CHECK(exchange(Answer(200, "[1]")).status().kind() == ErrorKind::kConfig);  // no refresh token
  CHECK(exchange(Answer(400, R"({"error":7})")).status().kind() == ErrorKind::kCredentials);
  auto u = exchange(Answer(200, R"({"access_token":1,"refresh_token":"r","expires_in":1e300})"));
  REQUIRE(u.ok());
  CHECK(u->token.empty());
  CHECK(u->refresh_token == "r");
  CHECK(std::chrono::system_clock::to_time_t(*u->expiry) == 86400);
}

TEST_CASE("fuzz findings: Gmail answers whose fields have other types do not throw") {
  GmailConfig config;
  config.api_base_url = "https://gmail.test";
  auto gmail = [&](std::deque<HttpResponse> answers) {
    return GmailSource(config, Answers(std::move(answers)), std::make_unique<FixedToken>(),
                       fuzz::NoWaitOptions(), NullLogger());
  };
  MailRef ref;
  ref.email_id = "m1";
  // The crash the fuzzer found: messages.get answered with a JSON string.
  CHECK(gmail({Answer(200, R"("a string")")}).Read(ref, 1 << 20).status().kind() == ErrorKind::kTransient);
  // A huge size estimate is over any limit, not undefined behaviour.
  CHECK(gmail({Answer(200, R"({"sizeEstimate":1e300,"raw":"eA"})")}).Read(ref, 1 << 20).status().kind() ==
        ErrorKind::kPermanent);
  auto listed = gmail({Answer(200, R"({"messages":[{"id":5},{"id":"ok"}],"nextPageToken":7})")}).List();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].email_id == "ok");
  auto label = gmail({Answer(200, R"({"labels":[{"name":"ncbocr-processed","id":3}]})"),
                      Answer(200, R"({"id":"L9"})")})
                   .ProcessedLabelId();
  REQUIRE(label.ok());
  CHECK(*label == "L9");  // the unusable entry was passed over and the label created
}

TEST_CASE("fuzz findings: Drive and Sheets answers whose fields have other types do not throw") {
  ArchiveConfig config;
  config.drive_folder_id = "root";
  config.drive_api_base_url = "https://drive.test";
  config.sheets_spreadsheet_id = "s";
  config.sheets_api_base_url = "https://sheets.test";
  FixedToken tokens;
  {
    fuzz::ScriptedHttp http({Answer(200, R"({"files":[{"id":5,"webViewLink":[]}]})")});
    auto dir = std::filesystem::temp_directory_path() / ("ncbocr-fuzz-findings-" + NewClaimId());
    auto spool = Spool::Open(dir);
    REQUIRE(spool.ok());
    DriveArchive drive(config, *spool, http, tokens, fuzz::NoWaitOptions(), NullLogger());
    auto found = drive.FindByClaim("c1");
    REQUIRE(found.ok());
    CHECK_FALSE(found->has_value());  // an entry without an id is not the file
    std::filesystem::remove_all(dir);
  }
  {
    // Tab titles of other types are not the tab; it is added, then the header written.
    fuzz::ScriptedHttp http({Answer(200, R"({"sheets":[3,{"properties":[]},{"properties":{"title":5}}]})"),
                             Answer(200, "{}"), Answer(200, R"({"values":[]})"), Answer(200, "{}")});
    SheetsAuditLog sheets(config, http, tokens, fuzz::NoWaitOptions(), NullLogger());
    CHECK(sheets.EnsureTab("2026-11").ok());
  }
}

}  // namespace
}  // namespace ncbocr
