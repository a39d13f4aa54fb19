// Member fields and stated values from the claim email.
//
// Members write in English, Malay or Chinese mixed with English, forward
// earlier messages and reply above quoted text. Values are taken only after
// a label ("member id", "nombor ahli", "会员号", "policy no"...), never from a
// bare number, so phone numbers in signatures are not mistaken for ids. The
// member's own text is read first, then forwarded text, then quoted text.
#include <algorithm>
#include <regex>

#include "extract_internal.h"
#include "ncbocr/extract.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

enum class Part { kOwn, kForwarded, kQuoted };

struct EmailLine {
  std::string text;
  Part part;
  bool signature;  // after a sign-off or "-- "
};

std::vector<EmailLine> SplitEmail(const EmailInfo& e) {
  std::vector<EmailLine> out;
  out.push_back({e.subject, Part::kOwn, false});
  Part part = Part::kOwn;
  bool sig = false;
  size_t start = 0;
  const std::string& t = e.text;
  while (start <= t.size()) {
    size_t nl = t.find('\n', start);
    std::string line = t.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string trimmed = Trim(line);
    std::string up = ToUpper(trimmed);
    if (up.find("FORWARDED MESSAGE") != std::string::npos || up.find("MESEJ DIMAJUKAN") != std::string::npos ||
        up.rfind("BEGIN FORWARDED", 0) == 0 || trimmed.find("转发的邮件") != std::string::npos) {
      part = Part::kForwarded;
      sig = false;
    } else if (up.find("ORIGINAL MESSAGE") != std::string::npos ||
               (up.rfind("ON ", 0) == 0 && up.find("WROTE:") != std::string::npos) ||
               (up.find("MENULIS:") != std::string::npos) || trimmed.find("写道") != std::string::npos) {
      part = Part::kQuoted;
      sig = false;
    }
    bool quoted = !trimmed.empty() && trimmed[0] == '>';
    if (quoted) {
      size_t k = 0;
      while (k < trimmed.size() && (trimmed[k] == '>' || trimmed[k] == ' ')) ++k;
      trimmed = trimmed.substr(k);
    }
    if (trimmed == "--" || line == "-- ") sig = true;
    out.push_back({trimmed, quoted ? Part::kQuoted : part, sig});
    static const char* const kSignOffs[] = {"REGARDS", "BEST REGARDS", "KIND REGARDS", "THANKS",
                                            "THANK YOU", "SINCERELY", "TERIMA KASIH", "SEKIAN",
                                            "YANG BENAR", "WASSALAM", "CHEERS"};
    std::string n = NormalizeForMatch(trimmed);
    for (const char* s : kSignOffs) {
      if (n == s) sig = true;
    }
    if (trimmed.find("谢谢") == 0 || trimmed.find("此致") == 0) sig = true;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

// The first id-like token after a label: letters/digits/-/, with a digit.
std::optional<std::string> ValueAfter(const std::string& text, const std::vector<std::string>& labels,
                                      size_t min_len) {
  for (const auto& label : labels) {
    size_t pos = 0;
    while (true) {
      size_t found;
      bool ascii = std::all_of(label.begin(), label.end(), [](unsigned char c) { return c < 0x80; });
      size_t e;
      if (ascii) {
        e = FindLabelEnd(text.substr(pos), label);
        if (e == std::string::npos) break;
        e += pos;
        found = e;
      } else {
        found = text.find(label, pos);
        if (found == std::string::npos) break;
        e = found + label.size();
      }
      // Skip connecting words and punctuation: "is", "adalah", "saya", "：".
      static const std::regex kVal(
          R"(^(?:\s|[:#.=\-]|\xEF\xBC\x9A|\xE6\x98\xAF|(?:is|adalah|ialah|saya|ID|No\.?|number|nombor)\b)*([A-Za-z]{0,4}-?[0-9][A-Za-z0-9\-/]*))",
          std::regex::icase);
      std::string rest = text.substr(e);
      std::smatch m;
      if (std::regex_search(rest, m, kVal)) {
        std::string v = m[1].str();
        while (!v.empty() && (v.back() == '-' || v.back() == '/')) v.pop_back();
        if (v.size() >= min_len) return v;
      }
      pos = found + 1;
      if (pos >= text.size()) break;
    }
  }
  return std::nullopt;
}

bool LooksLikePhone(const std::string& v) {
  std::string d;
  for (char c : v) {
    if (std::isdigit(static_cast<unsigned char>(c))) d += c;
    else if (c != '-' && c != ' ' && c != '+') return false;
  }
  return d.size() >= 9 && d.size() <= 12 && (d.rfind("01", 0) == 0 || d.rfind("60", 0) == 0 || d.rfind("0", 0) == 0);
}

// `separated`, when given, says whether a ':' or '-' stood between the label
// and the name ("Clinic: X" labels a name; "...at the klinik. Please..." does
// not).
std::string NameAfter(const std::string& text, const std::vector<std::string>& labels,
                      bool* separated = nullptr) {
  for (const auto& label : labels) {
    bool ascii = std::all_of(label.begin(), label.end(), [](unsigned char c) { return c < 0x80; });
    size_t e;
    if (ascii) {
      e = FindLabelEnd(text, label);
    } else {
      e = text.find(label);
      if (e != std::string::npos) e += label.size();
    }
    if (e == std::string::npos) continue;
    std::string rest = text.substr(e);
    size_t k = 0;
    bool sep = false;
    while (k < rest.size() && (rest[k] == ' ' || rest[k] == ':' || rest[k] == '-' || rest[k] == '\t')) {
      sep |= rest[k] == ':' || rest[k] == '-';
      ++k;
    }
    if (rest.compare(k, 3, "\xEF\xBC\x9A") == 0) {  // full-width colon
      k += 3;
      sep = true;
    }
    rest = rest.substr(k);
    // A sentence ends the name.
    size_t stop = rest.find(". ");
    if (stop != std::string::npos) rest = rest.substr(0, stop);
    // A name ends at punctuation that starts another clause.
    size_t cut = rest.find_first_of(",;()<>[]|0123456789");
    if (cut != std::string::npos) rest = rest.substr(0, cut);
    for (const char* stop : {" and ", " dan ", " with ", " member ", " policy ", " dengan ", " nombor ", " no "}) {
      std::string up = " " + ToUpper(rest) + " ";
      size_t p = up.find(ToUpper(stop));
      if (p != std::string::npos) rest = rest.substr(0, p > 0 ? p - 1 : 0);  // padded by one space
    }
    rest = CollapseSpaces(rest);
    while (!rest.empty() && (rest.back() == '.' || rest.back() == ' ')) rest.pop_back();
    int alpha = internal::CountAlphaChars(rest);
    if (alpha >= 3 && rest.size() <= 60) {
      if (separated) *separated = sep;
      return rest;
    }
  }
  return "";
}

}  // namespace

EmailFields ExtractEmail(const EmailInfo& email, const Date& today) {
  EmailFields f;
  std::vector<EmailLine> lines = SplitEmail(email);
  const std::vector<std::string> kMemberLabels = {
      "MEMBER ID", "MEMBER NO", "MEMBER NUMBER", "MEMBERSHIP NO", "MEMBERSHIP NUMBER",
      "MEMBERSHIP ID", "MEMBER", "NOMBOR AHLI", "NO AHLI", "ID AHLI", "NOMBOR KEAHLIAN",
      "NO KEAHLIAN", "AHLI", "会员号码", "会员编号", "会员号", "会员ID", "会员", "會員編號", "會員號", "會員"};
  const std::vector<std::string> kPolicyLabels = {
      "POLICY NO", "POLICY NUMBER", "POLICY #", "POLICY ID", "POLICY", "NO POLISI", "NOMBOR POLISI",
      "POLISI", "保单号码", "保单号", "保单编号", "保单", "保單號碼", "保單號", "保單"};
  const std::vector<std::string> kNameLabels = {
      "MEMBER NAME", "PATIENT NAME", "FULL NAME", "NAME", "NAMA AHLI", "NAMA PESAKIT", "NAMA PENUH",
      "NAMA SAYA", "NAMA", "MY NAME IS", "I AM", "SAYA IALAH", "姓名", "名字", "我叫", "我是"};

  // Own text first, then forwarded, then quoted; signatures last of all.
  for (int pass = 0; pass < 4; ++pass) {
    for (const auto& l : lines) {
      int want = pass < 3 ? pass : -1;
      if (pass < 3 && (static_cast<int>(l.part) != want || l.signature)) continue;
      if (pass == 3 && !l.signature) continue;
      double c = pass == 0 ? 0.95 : pass == 1 ? 0.85 : pass == 2 ? 0.7 : 0.6;
      if (!f.policy_number.present()) {
        auto v = ValueAfter(l.text, kPolicyLabels, 4);
        if (v && !LooksLikePhone(*v)) f.policy_number = {*v, c, "email"};
      }
      if (!f.member_id.present()) {
        auto v = ValueAfter(l.text, kMemberLabels, 4);
        if (v && !LooksLikePhone(*v) && (!f.policy_number.present() || *v != f.policy_number.value)) {
          f.member_id = {*v, c, "email"};
        }
      }
      if (!f.member_name.present()) {
        std::string n = NameAfter(l.text, kNameLabels);
        if (!n.empty()) f.member_name = {n, c * 0.9, "email"};
      }
      if (!f.total) {
        static const std::vector<std::string> kAmountLabels = {
            "AMOUNT", "TOTAL", "JUMLAH", "CLAIM AMOUNT", "AMAUN", "金额", "总额", "RM"};
        for (const auto& lab : kAmountLabels) {
          bool ascii = std::all_of(lab.begin(), lab.end(), [](unsigned char ch) { return ch < 0x80; });
          size_t e = ascii ? FindLabelEnd(l.text, lab) : l.text.find(lab);
          if (e == std::string::npos) continue;
          if (!ascii) e += lab.size();
          size_t from = lab == "RM" ? (e >= 2 ? e - 2 : 0) : e;
          std::vector<AmountToken> a = FindAmounts(l.text.substr(from));
          if (!a.empty() && a[0].cents > 0 && (a[0].has_decimals || a[0].has_currency)) {
            f.total = a[0].cents;
            break;
          }
        }
      }
      if (!f.service_date) {
        std::vector<DateToken> d = FindDates(l.text, Date{2000, 1, 1}, today);
        // Dates in headers of quoted mail ("On 3 Jan 2019 ... wrote") are
        // not the visit; own text and labelled lines only.
        std::string up = ToUpper(l.text);
        bool labelled = HasLabel(up, "DATE") || HasLabel(up, "TARIKH") || HasLabel(up, "VISIT") ||
                        HasLabel(up, "TREATMENT") || HasLabel(up, "RAWATAN") || l.text.find("日期") != std::string::npos;
        if (!d.empty() && labelled && up.find("WROTE") == std::string::npos && up.find("SENT:") == std::string::npos) {
          f.service_date = d[0].date;
        }
      }
      if (f.provider.empty()) {
        bool separated = false;
        std::string p = NameAfter(l.text, {"CLINIC", "KLINIK", "HOSPITAL", "PROVIDER", "PANEL", "诊所", "医院"}, &separated);
        // "Clinic: Klinik Sejahtera" -> keep the label word when it is part of the name.
        // A name starts with a letter or digit: "clinic + pharmacy" in a
        // subject names no provider.
        bool name_like = !p.empty() && (std::isalnum(static_cast<unsigned char>(p[0])) ||
                                        static_cast<unsigned char>(p[0]) >= 0x80);
        if (name_like && separated) f.provider = p;
      }
    }
  }
  // The sender's display name is a weak fallback for the member's name.
  if (!f.member_name.present()) {
    std::string from = email.from;
    size_t lt = from.find('<');
    if (lt != std::string::npos && lt > 0) {
      std::string n = Trim(from.substr(0, lt));
      if (n.size() >= 2 && n.front() == '"' && n.back() == '"') n = n.substr(1, n.size() - 2);
      if (internal::CountAlphaChars(n) >= 3) f.member_name = {n, 0.5, "email"};
    }
  }
  return f;
}

}  // namespace ncbocr
