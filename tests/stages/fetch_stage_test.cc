// Tests of fetch.h on a real temporary spool and real inbox directories.
#include "ncbocr/fetch_stage.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "mail_fixtures.h"
#include "ncbocr/email.h"
#include "ncbocr/log.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using testing::FakeJpeg;
using testing::FakePdf;
using testing::FakePng;
using testing::MakeEmail;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/ncbocr-fetch-test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

void WriteFile(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// A spool, a config and a stage context on a temporary directory.
struct Fixture {
  Fixture() : spool(Spool::Open(dir.path / "spool").value()) {
    config.spool = (dir.path / "spool").string();
    config.fetch.source = "eml";
    config.fetch.path = (dir.path / "inbox").string();
    fs::create_directories(config.fetch.path);
  }
  StageReport Fetch(Logger log = NullLogger()) {
    StageContext ctx{config, spool, log, clock, "fetch"};
    return RunFetchStage(ctx);
  }
  std::vector<Claim> In(ClaimState s) {
    std::vector<Claim> out;
    for (const auto& id : spool.List(s)) out.push_back(spool.LoadIn(s, id).value());
    return out;
  }
  size_t Total() {
    size_t n = 0;
    for (ClaimState s : AllClaimStates()) n += spool.List(s).size();
    return n;
  }
  void Add(const std::string& name, const std::string& raw) {
    WriteFile(fs::path(config.fetch.path) / name, raw);
  }
  TempDir dir;
  Config config;
  Spool spool;
  Clock clock;
};

const std::string kReceipt1 = FakeJpeg(1240, 1754, 6000, 1);
const std::string kReceipt2 = FakePng(1000, 1500, 5000, 2);
const std::string kLogo = FakePng(64, 32, 700, 3);

// A mail source in memory that says it is IMAP: ids are what the test says.
class MemorySource : public MailSource {
 public:
  explicit MemorySource(std::string kind) : kind_(std::move(kind)) {}
  std::string kind() const override { return kind_; }
  Result<std::vector<MailRef>> List() override {
    std::vector<MailRef> refs;
    for (const auto& [id, raw] : mail) {
      if (!marked.count(id)) refs.push_back(MailRef{id, static_cast<long long>(raw.size()), std::nullopt});
    }
    return refs;
  }
  Result<std::string> Read(const MailRef& ref, long long) override { return mail.at(ref.email_id); }
  Status MarkProcessed(const MailRef& ref) override {
    marked.insert(ref.email_id);
    return Status::Ok();
  }
  std::map<std::string, std::string> mail;  // id -> raw, listed in id order
  std::set<std::string> marked;

 private:
  std::string kind_;
};

TEST_CASE("fetch: IMAP and Gmail know a message that arrives again by its Message-ID") {
  const std::string raw = MakeEmail("claim", {{"image/jpeg", "r.jpg", kReceipt1}}, "Claim", "same@example.test");
  for (const std::string kind : {"imap", "gmail"}) {
    CAPTURE(kind);
    Fixture f;
    MemorySource source(kind);
    source.mail["100:1"] = raw;
    StageContext ctx{f.config, f.spool, NullLogger(), f.clock, "fetch"};
    REQUIRE(RunFetchStage(ctx, source).status.ok());
    CHECK(f.Total() == 1);
    // Delivered again (a new UID, or a new UIDVALIDITY): no claim, not even a duplicate.
    source.mail["100:7"] = raw;
    source.mail["200:1"] = raw;
    auto again = RunFetchStage(ctx, source);
    REQUIRE(again.status.ok());
    CHECK(f.Total() == 1);
    CHECK(again.outcomes["same_message_id"] == 2);
    CHECK(source.marked == std::set<std::string>{"100:1", "100:7", "200:1"});
    // Another email, another Message-ID, same receipt: a duplicate claim as before.
    source.mail["200:2"] = MakeEmail("claim", {{"image/jpeg", "r.jpg", kReceipt1}}, "Claim", "other@example.test");
    REQUIRE(RunFetchStage(ctx, source).status.ok());
    CHECK(f.In(ClaimState::kDuplicate).size() == 1);
  }
}

TEST_CASE("fetch: a Maildir or .eml source does not merge messages by Message-ID") {
  Fixture f;
  MemorySource source("eml");
  source.mail["a.eml"] = MakeEmail("claim", {{"image/jpeg", "r.jpg", kReceipt1}});
  source.mail["b.eml"] = MakeEmail("claim", {{"image/png", "s.png", kReceipt2}});  // same default Message-ID
  StageContext ctx{f.config, f.spool, NullLogger(), f.clock, "fetch"};
  REQUIRE(RunFetchStage(ctx, source).status.ok());
  CHECK(f.In(ClaimState::kFetched).size() == 2);
}

TEST_CASE("fetch: an .eml folder becomes claims; duplicates, review and failures are kept") {
  Fixture f;
  f.Add("a.eml", MakeEmail("Member ID: M10234", {{"image/png", "logo.png", kLogo, true},
                                                 {"image/jpeg", "../resit.jpg", kReceipt1}},
                           "Claim", "a@test"));
  f.Add("b.eml", MakeEmail("two", {{"image/jpeg", "one.jpg", FakeJpeg(900, 1200, 5000, 9)},
                                   {"application/pdf", "two.pdf", FakePdf(4)}}, "Two", "b@test"));
  f.Add("c.eml", MakeEmail("forgot the receipt", {{"image/png", "sig.png", kLogo, true}}));
  f.Add("d.eml", MakeEmail("again", {{"image/jpeg", "resit.jpg", kReceipt1}}, "Again", "d@test"));
  f.Add("e.eml", std::string("\x89PNG not an email", 17));
  f.Add("notes.txt", "not a message");

  StageReport r = f.Fetch();
  CHECK(r.status.ok());
  CHECK(r.claims == 6);

  auto fetched = f.In(ClaimState::kFetched);
  REQUIRE(fetched.size() == 3);
  // Ids created within one second sort randomly; find claims by their email.
  auto it = std::find_if(fetched.begin(), fetched.end(),
                         [](const Claim& c) { return c.source.email_id == "a.eml"; });
  REQUIRE(it != fetched.end());
  const Claim& a = *it;
  CHECK(a.source.kind == "eml");
  CHECK(a.source.email_id == "a.eml");
  CHECK(a.source.message_id == "a@test");
  CHECK(a.source.source_key == "eml:a.eml#0");
  CHECK(a.source.part_index == 0);
  CHECK(a.source.part_count == 1);
  CHECK_FALSE(a.source.received_at.empty());
  REQUIRE(a.attachment);
  CHECK(a.attachment->filename == "resit.jpg");
  CHECK(a.attachment->content_type == "image/jpeg");
  CHECK(a.attachment->stored_name == "original.jpg");
  CHECK(a.attachment->sha256 == Sha256Hex(kReceipt1));
  CHECK(f.spool.ReadClaimFile(a, "original.jpg").value() == kReceipt1);
  auto info = EmailInfo::FromJson(nlohmann::json::parse(f.spool.ReadClaimFile(a, "email.json").value()));
  REQUIRE(info.ok());
  CHECK(info->text.find("M10234") != std::string::npos);
  REQUIRE(a.skipped.size() == 1);  // the logo
  CHECK(a.skipped[0].find("part 1") != std::string::npos);

  // b.eml: two receipts, two claims that know their siblings' count.
  std::set<int> parts;
  for (const Claim& c : fetched) {
    if (c.source.email_id != "b.eml") continue;
    CHECK(c.source.part_count == 2);
    parts.insert(c.source.part_index);
  }
  CHECK(parts == std::set<int>{0, 1});

  auto dup = f.In(ClaimState::kDuplicate);
  REQUIRE(dup.size() == 1);
  CHECK(dup[0].source.email_id == "d.eml");
  CHECK(dup[0].duplicate_of == a.id);

  auto review = f.In(ClaimState::kReview);
  REQUIRE(review.size() == 1);
  CHECK(review[0].source.email_id == "c.eml");
  CHECK_FALSE(review[0].attachment);
  CHECK(review[0].reason.find("no receipt attachment") != std::string::npos);
  CHECK(review[0].reason.find("too small") != std::string::npos);
  CHECK(f.spool.HasClaimFile(review[0], "message.eml"));

  auto failed = f.In(ClaimState::kFailed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].reason.find("email " + EmailForLog("eml", "e.eml")) != std::string::npos);
  CHECK(failed[0].reason.find('\n') == std::string::npos);

  SUBCASE("re-fetch is a no-op") {
    StageReport again = f.Fetch();
    CHECK(again.status.ok());
    CHECK(again.claims == 0);
    CHECK(f.Total() == 6);
  }
}

TEST_CASE("fetch: an indexed claim that was never committed is re-created with the same id") {
  Fixture f;
  f.Add("a.eml", MakeEmail("x", {{"image/jpeg", "r.jpg", kReceipt1}}));
  const std::string id = "20241217-024200-deadbeef";
  REQUIRE(f.spool.IndexSource(SourceKey("eml", "a.eml", "0"), id).ok());
  REQUIRE(f.spool.ClaimSha(Sha256Hex(kReceipt1), id).ok());  // crash after the digest too
  StageReport r = f.Fetch();
  CHECK(r.claims == 1);
  auto fetched = f.In(ClaimState::kFetched);
  REQUIRE(fetched.size() == 1);
  CHECK(fetched[0].id == id);
  CHECK(f.In(ClaimState::kDuplicate).empty());
}

TEST_CASE("fetch: a message over max_message_bytes is parked in failed") {
  Fixture f;
  f.config.fetch.max_message_bytes = 1000;
  f.Add("big.eml", MakeEmail("x", {{"image/jpeg", "r.jpg", kReceipt1}}));
  f.Fetch();
  auto failed = f.In(ClaimState::kFailed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].reason.find("email " + EmailForLog("eml", "big.eml")) != std::string::npos);
  CHECK(failed[0].reason.find("max_message_bytes") != std::string::npos);
}

TEST_CASE("fetch: Maildir in move mode moves processed messages into a Maildir") {
  Fixture f;
  fs::path md = f.dir.path / "Maildir";
  fs::path done = f.dir.path / "Processed";
  f.config.fetch.source = "maildir";
  f.config.fetch.path = md.string();
  f.config.fetch.on_processed = "move";
  f.config.fetch.processed_path = done.string();
  fs::create_directories(md / "tmp");
  WriteFile(md / "new" / "1734403320.M1P1.host", MakeEmail("x", {{"image/jpeg", "r.jpg", kReceipt1}}));
  WriteFile(md / "cur" / "1734403321.M2P1.host:2,F",
            MakeEmail("y", {{"image/png", "r.png", kReceipt2}}, "C", "m2@test"));

  StageReport r = f.Fetch();
  CHECK(r.status.ok());
  CHECK(r.claims == 2);
  CHECK(fs::is_empty(md / "new"));
  CHECK(fs::is_empty(md / "cur"));
  CHECK(fs::exists(done / "cur" / "1734403320.M1P1.host:2,S"));
  CHECK(fs::exists(done / "cur" / "1734403321.M2P1.host:2,FS"));
  auto fetched = f.In(ClaimState::kFetched);
  REQUIRE(fetched.size() == 2);
  CHECK(fetched[0].source.kind == "maildir");
  std::set<std::string> ids{fetched[0].source.email_id, fetched[1].source.email_id};
  CHECK(ids == std::set<std::string>{"1734403320.M1P1.host", "1734403321.M2P1.host"});

  StageReport again = f.Fetch();
  CHECK(again.claims == 0);
  CHECK(f.Total() == 2);
}

TEST_CASE("fetch: Maildir keep mode leaves messages; re-fetch is a no-op") {
  Fixture f;
  fs::path md = f.dir.path / "Maildir";
  f.config.fetch.source = "maildir";
  f.config.fetch.path = md.string();
  WriteFile(md / "new" / "1.a.host", MakeEmail("x", {{"image/jpeg", "r.jpg", kReceipt1}}));
  CHECK(f.Fetch().claims == 1);
  CHECK(fs::exists(md / "new" / "1.a.host"));
  // A mail client moving it to cur/ with flags does not change its id.
  fs::create_directories(md / "cur");
  fs::rename(md / "new" / "1.a.host", md / "cur" / "1.a.host:2,S");
  CHECK(f.Fetch().claims == 0);
  CHECK(f.Total() == 1);
}

TEST_CASE("fetch: the bundled sample inbox gives the outcomes samples/README.md lists") {
  Fixture f;
  f.config.fetch.path = std::string(NCBOCR_SOURCE_DIR) + "/samples/inbox";
  std::ostringstream log_text;
  auto log = std::make_shared<spdlog::logger>(
      "fetch", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  log->set_level(spdlog::level::trace);
  StageReport r = f.Fetch(log);
  CHECK(r.status.ok());
  CHECK(r.claims == 11);
  auto fetched = f.In(ClaimState::kFetched);
  CHECK(fetched.size() == 9);
  std::map<std::string, int> per_email;
  for (const Claim& c : fetched) {
    ++per_email[c.source.email_id];
    if (c.source.email_id == "04-en-html-logo.eml") CHECK(c.skipped.size() == 1);
    if (c.source.email_id == "06-ms-zh-pdf.eml") {
      CHECK(c.attachment->content_type == "application/pdf");
      auto info = EmailInfo::FromJson(
          nlohmann::json::parse(f.spool.ReadClaimFile(c, "email.json").value()));
      CHECK(info->subject == "Tuntutan perubatan \xE5\x8C\xBB\xE8\x8D\xAF\xE8\xB4\xB9"
                             "\xE6\x8A\xA5\xE9\x94\x80");
      CHECK(info->text.find("M60606") != std::string::npos);
    }
    if (c.source.email_id == "04-en-html-logo.eml") {
      auto info = EmailInfo::FromJson(
          nlohmann::json::parse(f.spool.ReadClaimFile(c, "email.json").value()));
      CHECK(info->text.find("Member ID: M40420") != std::string::npos);
    }
  }
  CHECK(per_email["03-en-two-receipts.eml"] == 2);
  // Two receipts in one PDF are one attachment: one claim at fetch, split
  // by the extract stage.
  CHECK(per_email["09-ms-two-receipts-one-pdf.eml"] == 1);
  auto dup = f.In(ClaimState::kDuplicate);
  REQUIRE(dup.size() == 1);
  CHECK(dup[0].source.email_id == "07-en-resend-duplicate.eml");
  auto review = f.In(ClaimState::kReview);
  REQUIRE(review.size() == 1);
  CHECK(review[0].source.email_id == "08-ms-no-attachment.eml");
  CHECK(f.In(ClaimState::kFailed).empty());

  // Nothing personal in the log, even at trace level.
  std::string logged = log_text.str();
  CHECK(logged.find("claim ") != std::string::npos);
  for (const char* secret : {"M10234", "M22222", "M30311", "M40420", "M60606", "M70707", "M90909", "POL-", "Ahmad", "Faris",
                             "Nurul", "Priya", "Rajesh", "Lim Chee", "Tan Mei", "@example.com",
                             "receipt_klinik", "resit", "Siti", "imbasan", "mesra"}) {
    CHECK_MESSAGE(logged.find(secret) == std::string::npos, secret);
  }
}

TEST_CASE("fetch: eml file names, which mail clients take from the Subject, stay out of the log") {
  // Issue 15 item 5: the log said "email eml:claim <member name> <member id>.eml".
  Fixture f;
  f.config.fetch.max_message_bytes = 64 * 1024;
  const std::string good = "Claim Siti Aminah binti Yusof MBR-778899.eml";
  const std::string big = "Tuntutan 850101-14-5566 Siti.eml";
  const std::string broken = "Resit Tan Mei Ling POL-2024-00123.eml";
  const std::string none = "Claim\x01 Nurul \x1b[31m.eml";
  f.Add(good, MakeEmail("x", {{"image/jpeg", "r.jpg", kReceipt1}}));
  f.Add(big, MakeEmail("x", {{"image/jpeg", "r.jpg", std::string(100 * 1024, 'j')}}));
  f.Add(broken, "");
  f.Add(none, MakeEmail("forgot the receipt", {}));
  std::ostringstream log_text;
  auto log = std::make_shared<spdlog::logger>(
      "fetch", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  log->set_level(spdlog::level::trace);
  StageReport r = f.Fetch(log);
  CHECK(r.claims == 4);
  std::string logged = log_text.str();
  for (const char* secret : {"Siti", "Aminah", "MBR-778899", "850101", "Tan Mei", "POL-2024",
                             "Nurul", "Tuntutan", "Resit", ".eml"}) {
    CHECK_MESSAGE(logged.find(secret) == std::string::npos, secret);
  }
  // Each email is named by the same opaque id in every line and reason about it.
  for (const std::string& name : {good, big, broken, none}) {
    std::string id = EmailForLog("eml", name);
    CHECK(id == "eml:" + Sha256Hex(name).substr(0, 12));
    CHECK_MESSAGE(logged.find("email " + id) != std::string::npos, name);
  }
  auto failed = f.In(ClaimState::kFailed);
  REQUIRE(failed.size() == 2);
  for (const Claim& c : failed) {
    CHECK(c.reason.find("email " + EmailForLog("eml", c.source.email_id) + ": ") == 0);
    CHECK(c.reason.find(c.source.email_id) == std::string::npos);
  }
  // Other sources' ids are not file names and stay readable.
  CHECK(EmailForLog("imap", "1700:42") == "imap:1700:42");
  CHECK(EmailForLog("maildir", "1.M2\nP3") == "maildir:1.M2?P3");
  CHECK(EmailForLog("gmail", "") == "gmail:?");
}

TEST_CASE("fetch: configuration problems are kConfig") {
  FetchConfig c;
  c.source = "pop3";
  CHECK(MakeMailSource(c).status().kind() == ErrorKind::kConfig);
  c.source = "eml";
  c.path = "";
  CHECK(MakeMailSource(c).status().kind() == ErrorKind::kConfig);
  c.path = "/nonexistent/ncbocr";
  CHECK(MakeMailSource(c).status().kind() == ErrorKind::kConfig);
  TempDir d;
  c.path = d.path.string();
  c.on_processed = "move";
  CHECK(MakeMailSource(c).status().kind() == ErrorKind::kConfig);
  c.source = "maildir";
  c.on_processed = "keep";
  CHECK(MakeMailSource(c).status().kind() == ErrorKind::kConfig);  // no new/ or cur/
}

}  // namespace
}  // namespace ncbocr
