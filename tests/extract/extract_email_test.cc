// Member fields from the email where members put them (issue 12), ids that
// run on into foreign characters (issue 15 item 4) and the readers' linear
// time on hostile bodies (issue 15 item 2).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "ncbocr/config.h"
#include "ncbocr/extract.h"
#include "ncbocr/mime.h"
#include "test_util.h"

using namespace ncbocr;

namespace {

const Date kDay{2026, 11, 30};

EmailFields Read(const std::string& subject, const std::string& text,
                 const ExtractConfig& cfg = {}) {
  EmailInfo e;
  e.subject = subject;
  e.text = text;
  return ExtractEmail(e, kDay, cfg);
}

bool Has(const std::vector<std::string>& v, const std::string& part) {
  for (const auto& s : v) {
    if (s.find(part) != std::string::npos) return true;
  }
  return false;
}

// A receipt that alone would be submitted.
ReceiptFields SureReceipt() {
  ReceiptFields r;
  r.service_date = {"2026-11-14", 0.97, "ocr"};
  r.total_amount = {"70.80", 0.97, "ocr"};
  r.receipt_number = {"KS-2026-008812", 0.95, "ocr"};
  return r;
}

// The claim of receipt r (by default a sure one, so that what the email
// adds decides).
Extraction Route(const EmailFields& e, const ReceiptFields& r = SureReceipt()) {
  ExtractOptions o;
  o.today = kDay;
  o.claim_id = "c1";
  return Combine(r, e, ExtractConfig{}, o);
}

}  // namespace

TEST_CASE("extract email: an id only in the Subject, of a configured shape") {
  EmailFields f = Read("Claim - M44405 - Faris", "");
  CHECK(f.member_id.value == "M44405");
  CHECK(f.member_id.confidence >= 0.9);
  CHECK(f.problems.empty());
  CHECK(Route(f).decision == "submit");

  CHECK(Read("Tuntutan MBR-0809671 klinik", "Sila rujuk lampiran.").member_id.value ==
        "MBR-0809671");
  CHECK(Read("Fwd: claim for POL-2024-00123", "").policy_number.value == "POL-2024-00123");
  // Words, dates and amounts in a Subject are no ids.
  EmailFields none = Read("Claim 14/11/2026 RM 70.80 clinic", "");
  CHECK_FALSE(none.member_id.present());
  CHECK_FALSE(none.policy_number.present());
}

TEST_CASE("extract: a confidence just below the threshold is shown rounded down, not as the threshold") {
  ReceiptFields r = SureReceipt();
  r.total_amount.confidence = 0.895;
  const EmailFields member = Read("Claim - M44405 - Faris", "");
  Extraction x = Route(member, r);
  CHECK(x.decision == "review");
  CHECK(Has(x.reasons, "confidence 0.89 is below the threshold 0.90 (weakest: total_amount)"));
  r.total_amount.confidence = 0.29;  // 28.999... in doubles: still 0.29
  CHECK(Has(Route(member, r).reasons, "confidence 0.29 is below"));
}

TEST_CASE("extract email: an RFC 2047 Chinese Subject is decoded and read") {
  // "医疗报销 M44405 陈美玲" in UTF-8, base64 encoded-word.
  std::string raw =
      "From: a@example.com\r\nTo: claims@example.com\r\n"
      "Subject: =?UTF-8?B?5Yy755aX5oql6ZSAIE00NDQwNSDpmYjnvo7njrI=?=\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
      "\xE8\xAF\xB7\xE6\x9F\xA5\xE6\x94\xB6\r\n";  // 请查收
  Result<ParsedEmail> p = ParseEmail(raw);
  REQUIRE(p.ok());
  CHECK(p->info.subject.find("M44405") != std::string::npos);
  EmailFields f = ExtractEmail(p->info, kDay);
  CHECK(f.member_id.value == "M44405");
  CHECK(f.member_id.confidence >= 0.9);
}

TEST_CASE("extract email: an unlabelled id in a short body; not in a long one") {
  EmailFields f = Read("Claim", "MBR-0062858 / Tan Ah Kow\n");
  CHECK(f.member_id.value == "MBR-0062858");
  CHECK(f.member_id.confidence >= 0.9);
  // Glued to the name by the slash.
  CHECK(Read("", "MBR-0062858/Tan Ah Kow").member_id.value == "MBR-0062858");

  std::string longer;
  for (int i = 0; i < 20; ++i)
    longer += "Line " + std::to_string(i) + " of a long letter about the visit.\n";
  longer += "My brother M44405 also went.\n";
  CHECK_FALSE(Read("Claim", longer).member_id.present());
  // A label still counts anywhere.
  CHECK(Read("Claim", longer + "Member ID: M55555\n").member_id.value == "M55555");
}

TEST_CASE(
    "extract email: a forward gives the original sender's id, not the forwarder's signature") {
  std::string text =
      "FYI, please process.\n\nRegards,\nHR Admin\nStaff no M99999\n\n"
      "---------- Forwarded message ---------\nFrom: Faris <f@example.com>\n"
      "Hi, my claim attached. Member ID: M44405\n";
  EmailFields f = Read("Fwd: claim", text);
  CHECK(f.member_id.value == "M44405");
  CHECK(f.member_id.confidence >= 0.9);
  CHECK(f.problems.empty());  // the forwarder's signature is no second id

  // A reply: the member's own text above the quote wins over it.
  EmailFields r = Read(
      "Re: claim", "My id is M44405.\n\nOn Mon, 1 Dec 2026, Clerk wrote:\n> Member ID: M44405\n");
  CHECK(r.member_id.value == "M44405");
  CHECK(r.problems.empty());
}

TEST_CASE("extract email: HTML-only mail, the label and the value in table cells") {
  std::string raw =
      "From: a@example.com\r\nTo: claims@example.com\r\nSubject: claim\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
      "<html><body><table><tr><td>Member ID</td></tr><tr><td><b>M40420</b></td></tr>"
      "<tr><td>Policy No:</td><td>POL-2022-01010</td></tr></table></body></html>\r\n";
  Result<ParsedEmail> p = ParseEmail(raw);
  REQUIRE(p.ok());
  EmailFields f = ExtractEmail(p->info, kDay);
  CHECK(f.member_id.value == "M40420");
  CHECK(f.policy_number.value == "POL-2022-01010");

  // A label ending its line labels the first token of the next (past blank
  // lines), in a body too long for unlabelled ids.
  std::string text = "Member ID:\n\nM40420\n";
  for (int i = 0; i < 20; ++i)
    text += "More text about the visit, line " + std::to_string(i) + ".\n";
  CHECK(Read("", text).member_id.value == "M40420");
}

TEST_CASE("extract email: English, Malay and Chinese labels") {
  CHECK(Read("", "Hi, membership no. M10234, thanks").member_id.value == "M10234");
  CHECK(Read("", "No. Ahli: M22222\nNo Polisi: POL-2023-04567").member_id.value == "M22222");
  CHECK(Read("", "No. Ahli: M22222\nNo Polisi: POL-2023-04567").policy_number.value ==
        "POL-2023-04567");
  CHECK(Read("", "会员号：M60606，保单号：POL-2024-00606").member_id.value == "M60606");
  CHECK(Read("", "會員編號 M60606").member_id.value == "M60606");
  CHECK(Read("", "会员号：M60606，保单号：POL-2024-00606").policy_number.value == "POL-2024-00606");
  // A label followed by something else is no value: a hotline, an IC number.
  EmailFields sig = Read("", "Member hotline 1300-88-1234\nIC no 850101-14-5566\n");
  CHECK_FALSE(sig.member_id.present());
  CHECK_FALSE(sig.policy_number.present());
}

TEST_CASE("extract email: two different ids go to a clerk") {
  EmailFields f = Read("Claim M55555", "Member ID: M44405\n");
  CHECK(Has(f.problems, "two different member ids"));
  CHECK(f.member_id.confidence <= 0.5);
  Extraction x = Route(f);
  CHECK(x.decision == "review");
  CHECK(Has(x.reasons, "two different member ids"));

  // The same id twice, written differently, is one id.
  EmailFields same = Read("Claim MBR-0809671", "Member ID: MBR0809671\n");
  CHECK(same.problems.empty());
  CHECK(Read("", "Policy POL-2024-00123, and again POL-2024-00777").problems.size() == 1);
}

TEST_CASE("extract email: the configured shapes decide what an id is") {
  ExtractConfig cfg;
  cfg.member_id_patterns = {"XY[0-9]{6}"};
  cfg.policy_number_patterns = {"[0-9]{3}-[0-9]{7}"};
  EmailFields f = Read("Claim XY123456", "Policy no 123-4567890\n", cfg);
  CHECK(f.member_id.value == "XY123456");
  CHECK(f.policy_number.value == "123-4567890");
  // An id of neither shape is not guessed, even after a label.
  EmailFields g = Read("", "Member ID: M44405\n", cfg);
  CHECK_FALSE(g.member_id.present());
  CHECK(Has(g.remarks, "extract.member_id_patterns"));
  // Shapes ignore case and match whole tokens only.
  CHECK(Read("", "member id xy123456", cfg).member_id.value == "xy123456");
  CHECK_FALSE(Read("", "member id XY1234567", cfg).member_id.present());
}

TEST_CASE(
    "extract email: extract.member_id_patterns and policy_number_patterns load and are checked") {
  testing::TempDir t;
  std::string p = (t.path() / "c.yaml").string();
  std::ofstream(p) << "extract:\n  member_id_patterns: ['XY[0-9]{6}', 'Z-[0-9]+']\n"
                      "  policy_number_patterns: []\n";
  ::chmod(p.c_str(), 0600);
  Result<Config> c = LoadConfig(p, {});
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->extract.member_id_patterns == std::vector<std::string>{"XY[0-9]{6}", "Z-[0-9]+"});
  CHECK(c->extract.policy_number_patterns.empty());
  Config d;
  CHECK(d.extract.member_id_patterns.size() >= 2);

  std::ofstream(p) << "extract:\n  member_id_patterns: ['M[0-9']\n";
  Result<Config> bad = LoadConfig(p, {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().kind() == ErrorKind::kConfig);
  CHECK(bad.status().message().find("extract.member_id_patterns") != std::string::npos);
  CHECK(bad.status().message().find("M[0-9") != std::string::npos);

  std::ofstream(p) << "extract:\n  member_id_patterns: []\n";
  CHECK_FALSE(LoadConfig(p, {}).ok());
}

TEST_CASE("extract email: an id that runs on into characters no id holds is not cut short") {
  EmailFields f = Read("Claim", "Policy No: POL-1' OR '1'='1\n");
  CHECK_FALSE(f.policy_number.present());
  CHECK(Has(f.problems, "policy number in the email runs on into '''"));
  Extraction x = Route(f);
  CHECK(x.decision == "review");
  CHECK(Has(x.reasons, "runs on"));
  CHECK(x.fields["policy_number"].value.empty());

  EmailFields m = Read("Claim", "Member ID: M123'; DROP TABLE claims;--\n");
  CHECK_FALSE(m.member_id.present());
  CHECK(Has(m.problems, "member id in the email runs on"));
  CHECK(Route(m).decision == "review");

  // An id of a shape, unlabelled, is not cut either.
  CHECK(Has(Read("Claim M44405\"><script>", "").problems, "runs on into '\"'"));
  // What ends a token cleanly: a sentence's full stop, a comma, brackets,
  // quotes around the id, the end of the text.
  CHECK(Read("", "My member id is M44405.").member_id.value == "M44405");
  CHECK(Read("", "Member ID 'M44405', thanks").member_id.value == "M44405");
  CHECK(Read("", "Member ID (M44405)").member_id.value == "M44405");
  CHECK(Read("", "Member ID \"M44405\"").problems.empty());
  // An e-mail address or a link holds no id.
  EmailFields addr = Read("", "Reply to m44405@example.com or see https://x.example/M44405");
  CHECK_FALSE(addr.member_id.present());
  CHECK(addr.problems.empty());
}

TEST_CASE("extract email: the readers take linear time on 1 MB of each bad shape") {
  const size_t kSize = 1 << 20;
  auto repeat = [&](const std::string& unit) {
    std::string s;
    while (s.size() < kSize) s += unit;
    return s;
  };
  const std::vector<std::pair<const char*, std::string>> shapes = {
      {"'member ' on one line", repeat("member ")},
      {"'member id: ' on one line", repeat("member id: ")},
      {"'member' lines", repeat("member\n")},
      {"'Policy No ' on one line", repeat("Policy No ")},
      {"'会员' on one line", repeat("会员")},
      {"'Name: ' on one line", repeat("Name: ")},
      {"'RM ' on one line", repeat("RM ")},
      {"'Date ' on one line", repeat("Date ")},
      {"'Clinic: ' on one line", repeat("Clinic: ")},
      {"an id repeated", repeat("Member ID M44405 ")},
      {"different ids", repeat("M12345 M54321 ")},
      {"one 1 MB token of digits", repeat("1")},
      {"one 1 MB word", repeat("a")},
      {"quotes", repeat("M1' ")},
      {"'> ' quoted lines", repeat("> member\n")},
      {"'-- ' signatures", repeat("-- \nmember\n")},
  };
  for (const auto& shape : shapes) {
    // Named copies, not structured bindings: INFO captures them in a lambda.
    const std::string name(shape.first);
    const std::string& text = shape.second;
    double t0 = ThreadCpuSeconds();
    EmailFields f = Read(text.substr(0, 4096), text);
    double secs = ThreadCpuSeconds() - t0;
    INFO(name << ": " << secs << " s");
    CHECK(secs < 2.0 * kSanitizerSlowdown);
    (void)f;
  }
}
