// Member fields and stated values from the claim email.
//
// Members write in English, Malay or Chinese mixed with English, forward
// earlier messages and reply above quoted text. Values are taken only after
// a label ("member id", "nombor ahli", "会员号", "policy no"...), never from a
// bare number, so phone numbers in signatures are not mistaken for ids. The
// member's own text is read first, then forwarded text, then quoted text.
#include <algorithm>
#include <regex>

#include "extract/extract_internal.h"
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

// Member ids and policy numbers: id-like tokens (letters, digits, '-', '/'
// with at least one digit) of a configured shape. One left-to-right pass
// over each line makes the tokens; a token's label is found by walking back
// over at most a few tokens, so the whole reading is linear in the email's
// size whatever it holds.

enum class IdKind { kNone, kMember, kPolicy };

struct IdShapes {
  std::vector<std::regex> member, policy;
  explicit IdShapes(const ExtractConfig& c) {
    auto compile = [](const std::vector<std::string>& in, std::vector<std::regex>& out) {
      for (const auto& p : in) {
        try {
          out.emplace_back(p, std::regex::ECMAScript | std::regex::icase | std::regex::optimize);
        } catch (const std::regex_error&) {
          // LoadConfig refuses such a pattern; a hand-made config just loses it.
        }
      }
    };
    compile(c.member_id_patterns, member);
    compile(c.policy_number_patterns, policy);
  }
  static bool Any(const std::vector<std::regex>& res, const std::string& v) {
    return std::any_of(res.begin(), res.end(),
                       [&](const std::regex& re) { return std::regex_match(v, re); });
  }
};

// Longest token the shapes are tried on: ids are short, and a bound keeps
// regex matching linear in the email's size.
constexpr size_t kMaxIdToken = 64;

struct Tok {
  enum Type { kWord, kId, kCjk, kPunct } type;
  size_t b, e;
};

bool IsIdChar(unsigned char c) { return std::isalnum(c) || c == '-' || c == '/'; }

std::vector<Tok> Tokenize(const std::string& t) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < t.size()) {
    unsigned char c = t[i];
    if (std::isspace(c)) {
      ++i;
    } else if (c >= 0x80) {
      size_t b = i;
      while (i < t.size() && static_cast<unsigned char>(t[i]) >= 0x80) ++i;
      out.push_back({Tok::kCjk, b, i});
    } else if (IsIdChar(c)) {
      size_t b = i;
      bool digit = false;
      while (i < t.size() && IsIdChar(t[i]))
        digit |= std::isdigit(static_cast<unsigned char>(t[i++])) != 0;
      out.push_back({digit ? Tok::kId : Tok::kWord, b, i});
    } else {
      out.push_back({Tok::kPunct, i, i + 1});
      ++i;
    }
  }
  return out;
}

// Words that may stand between a label and its value: "Member ID No. is M1".
bool IsConnector(const std::string& up) {
  static const char* const kWords[] = {"IS", "ADALAH", "IALAH",  "SAYA", "ID",
                                       "NO", "NUMBER", "NOMBOR", "NUM",  "NBR"};
  for (const char* w : kWords) {
    if (up == w) return true;
  }
  return !up.empty() && up.find_first_not_of("-/") == std::string::npos;
}

IdKind LabelWord(const std::string& up) {
  if (up == "MEMBER" || up == "MEMBERSHIP" || up == "AHLI" || up == "KEAHLIAN")
    return IdKind::kMember;
  if (up == "POLICY" || up == "POLISI") return IdKind::kPolicy;
  return IdKind::kNone;
}

// A Chinese label at the end of a run of non-ASCII text ("我的会员号是").
IdKind CjkLabel(const std::string& t, const Tok& k) {
  size_t from = k.e - std::min<size_t>(k.e - k.b, 18);
  std::string tail = t.substr(from, k.e - from);
  for (const char* m : {"会员", "會員"}) {
    if (tail.find(m) != std::string::npos) return IdKind::kMember;
  }
  for (const char* p : {"保单", "保單"}) {
    if (tail.find(p) != std::string::npos) return IdKind::kPolicy;
  }
  return IdKind::kNone;
}

// What labels token k: walks back over at most six connectors to a label
// word. *reached_start says the walk ran off the line's start (the label may
// end the line before).
IdKind LabelBefore(const std::string& t, const std::vector<Tok>& toks, size_t k,
                   bool* reached_start) {
  *reached_start = false;
  size_t steps = 0;
  size_t j = k;
  while (j > 0 && steps < 6) {
    const Tok& p = toks[j - 1];
    if (p.type == Tok::kPunct) {
      char c = t[p.b];
      if (std::string_view(":#.=('\"").find(c) == std::string_view::npos) return IdKind::kNone;
    } else if (p.type == Tok::kCjk) {
      if (IdKind cjk = CjkLabel(t, p); cjk != IdKind::kNone) return cjk;
      // A full-width colon or 是 alone connects.
      std::string s = t.substr(p.b, p.e - p.b);
      if (s != "\xEF\xBC\x9A" && s != "\xE6\x98\xAF") return IdKind::kNone;
    } else if (p.type == Tok::kWord) {
      std::string up = ToUpper(t.substr(p.b, p.e - p.b));
      if (IdKind w = LabelWord(up); w != IdKind::kNone) return w;
      if (!IsConnector(up)) return IdKind::kNone;
    } else {
      return IdKind::kNone;
    }
    --j;
    ++steps;
  }
  *reached_start = j == 0;
  return IdKind::kNone;
}

// The label a line ends with ("Member ID:" alone, its value on the next line).
IdKind TrailingLabel(const std::string& t, const std::vector<Tok>& toks) {
  bool start = false;
  std::vector<Tok> with_end = toks;
  with_end.push_back({Tok::kId, t.size(), t.size()});
  return LabelBefore(t, with_end, with_end.size() - 1, &start);
}

std::string NormalizeId(const std::string& v) {
  std::string n;
  for (unsigned char c : v) {
    if (std::isalnum(c)) n += static_cast<char>(std::toupper(c));
  }
  return n;
}

struct IdCandidate {
  std::string value;
  IdKind kind = IdKind::kNone;  // by shape (a label decides when both fit)
  IdKind label = IdKind::kNone;
  char runs_on = 0;  // the character the token runs on into
};

// The id candidates of one line: labelled tokens and tokens of a configured
// shape. A token inside an e-mail address or a link is none.
std::vector<IdCandidate> FindIds(const std::string& t, const IdShapes& shapes, IdKind carried_label,
                                 IdKind* trailing_label) {
  std::vector<IdCandidate> out;
  std::vector<Tok> toks = Tokenize(t);
  for (size_t k = 0; k < toks.size(); ++k) {
    const Tok& tok = toks[k];
    if (tok.type != Tok::kId) continue;
    // The whitespace-delimited chunk: an address or link holds no id.
    size_t cb = tok.b, ce = tok.e;
    while (cb > 0 && !std::isspace(static_cast<unsigned char>(t[cb - 1])) && tok.b - cb < 256) --cb;
    while (ce < t.size() && !std::isspace(static_cast<unsigned char>(t[ce])) && ce - tok.e < 256)
      ++ce;
    std::string chunk = t.substr(cb, ce - cb);
    if (chunk.find('@') != std::string::npos || chunk.find("://") != std::string::npos ||
        ToUpper(chunk).rfind("WWW.", 0) == 0) {
      continue;
    }
    bool at_start = false;
    IdKind label = LabelBefore(t, toks, k, &at_start);
    if (label == IdKind::kNone && at_start) label = carried_label;
    // Trim '-' and '/' at the ends: "Claim -M44405-".
    size_t b = tok.b, e = tok.e;
    while (b < e && (t[b] == '-' || t[b] == '/')) ++b;
    while (e > b && (t[e - 1] == '-' || t[e - 1] == '/')) --e;
    if (e - b > kMaxIdToken || b == e) continue;
    std::string v = t.substr(b, e - b);
    // What follows: the end, a space, non-ASCII text or a separator ends the
    // token cleanly; '.', ':', '!' or '?' end it when not followed by more
    // of the token; a character the token is wrapped in ('M1', "M1", *M1*)
    // closes it. Anything else runs on: an id never holds it.
    char runs_on = 0;
    if (tok.e < t.size()) {
      unsigned char c = t[tok.e];
      unsigned char next = tok.e + 1 < t.size() ? t[tok.e + 1] : ' ';
      bool clean = std::isspace(c) || c >= 0x80 ||
                   std::string_view(",;()[]<>").find(c) != std::string_view::npos ||
                   (std::string_view(".:!?").find(c) != std::string_view::npos && !IsIdChar(next) &&
                    next != '\'' && next != '"') ||
                   (tok.b > 0 && t[tok.b - 1] == static_cast<char>(c));
      if (!clean) runs_on = static_cast<char>(c);
    }
    auto classify = [&](const std::string& x) {
      bool m = IdShapes::Any(shapes.member, x), p = IdShapes::Any(shapes.policy, x);
      if (m && p) return label == IdKind::kPolicy ? IdKind::kPolicy : IdKind::kMember;
      return m ? IdKind::kMember : p ? IdKind::kPolicy : IdKind::kNone;
    };
    IdKind kind = classify(v);
    if (kind == IdKind::kNone && v.find('/') != std::string::npos && !runs_on) {
      // "MBR-0062858/Faris": try the pieces.
      size_t s = 0;
      while (s <= v.size()) {
        size_t slash = v.find('/', s);
        std::string piece = v.substr(s, slash == std::string::npos ? std::string::npos : slash - s);
        if (IdKind pk = classify(piece); pk != IdKind::kNone) out.push_back({piece, pk, label, 0});
        if (slash == std::string::npos) break;
        s = slash + 1;
      }
      continue;
    }
    if (kind == IdKind::kNone && label == IdKind::kNone) continue;
    out.push_back({v, kind, label, runs_on});
  }
  if (trailing_label) *trailing_label = TrailingLabel(t, toks);
  return out;
}

// Whether `up` (upper-cased text) may hold `label` at all: its first word
// occurs in it. A cheap test before FindLabelEnd, which copies the line.
bool MayHold(const std::string& up, const std::string& label) {
  size_t sp = label.find(' ');
  return up.find(sp == std::string::npos ? label : label.substr(0, sp)) != std::string::npos;
}

// `separated`, when given, says whether a ':' or '-' stood between the label
// and the name ("Clinic: X" labels a name; "...at the klinik. Please..." does
// not).
std::string NameAfter(const std::string& text, const std::vector<std::string>& labels,
                      bool* separated = nullptr) {
  const std::string up = ToUpper(text);
  for (const auto& label : labels) {
    if (!MayHold(up, label)) continue;
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

// Confidence of an id by where it stood: own text (and the Subject),
// forwarded text (the original sender's), quoted text, a signature; an id
// without a label a little less.
double IdConfidence(const EmailLine& l, bool labelled) {
  double c = l.signature                  ? 0.6
             : l.part == Part::kOwn       ? 0.95
             : l.part == Part::kForwarded ? 0.92
                                          : 0.7;
  return labelled ? c : c - 0.03;
}

const char* IdName(IdKind k) { return k == IdKind::kPolicy ? "policy number" : "member id"; }

// Member id and policy number from all lines: the most confident reading of
// each kind; two different ids of one kind (outside signatures) or an id
// that runs on into foreign characters are for a clerk.
void ReadIds(const std::vector<EmailLine>& lines, const IdShapes& shapes, EmailFields& f) {
  // Parts short enough that an id needs no label ("MBR-0062858 / Faris").
  constexpr size_t kShortLines = 12, kShortBytes = 1500;
  size_t part_lines[3] = {0, 0, 0}, part_bytes[3] = {0, 0, 0};
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].text.empty()) continue;
    int p = static_cast<int>(lines[i].part);
    ++part_lines[p];
    part_bytes[p] += lines[i].text.size();
  }
  auto short_part = [&](Part p) {
    int k = static_cast<int>(p);
    return part_lines[k] <= kShortLines && part_bytes[k] <= kShortBytes;
  };
  struct Found {
    std::string value;
    double confidence;
    bool usable;  // may be taken (else it only witnesses a conflict)
    bool signature;
  };
  std::vector<Found> found[3];  // by IdKind
  bool unshaped[3] = {false, false, false};
  std::vector<std::string> problems;
  auto problem = [&](const std::string& p) {
    if (std::find(problems.begin(), problems.end(), p) == problems.end()) problems.push_back(p);
  };
  IdKind carried = IdKind::kNone;
  for (size_t i = 0; i < lines.size(); ++i) {
    const EmailLine& l = lines[i];
    if (l.text.empty()) continue;  // a label's value may follow a blank line (HTML tables)
    IdKind trailing = IdKind::kNone;
    std::vector<IdCandidate> ids =
        FindIds(l.text, shapes, i == 0 ? IdKind::kNone : carried, &trailing);
    carried = i == 0 ? IdKind::kNone : trailing;
    bool may_unlabelled = i == 0 || short_part(l.part);
    for (const IdCandidate& id : ids) {
      IdKind kind = id.kind != IdKind::kNone ? id.kind : id.label;
      if (id.runs_on) {
        std::string ch(1, id.runs_on);
        problem("the " + std::string(IdName(kind)) + " in the email runs on into '" + ch +
                "', which no id holds: read it by hand (it was not cut short)");
        continue;
      }
      if (id.kind == IdKind::kNone) {
        unshaped[static_cast<int>(id.label)] = true;
        continue;
      }
      bool labelled = id.label != IdKind::kNone;
      found[static_cast<int>(kind)].push_back(
          {id.value, IdConfidence(l, labelled), labelled || may_unlabelled, l.signature});
    }
  }
  for (IdKind kind : {IdKind::kMember, IdKind::kPolicy}) {
    const std::vector<Found>& all = found[static_cast<int>(kind)];
    const Found* best = nullptr;
    for (const Found& x : all) {
      if (x.usable && (!best || x.confidence > best->confidence)) best = &x;
    }
    Field& field = kind == IdKind::kMember ? f.member_id : f.policy_number;
    if (!best) {
      if (unshaped[static_cast<int>(kind)]) {
        std::string key = kind == IdKind::kMember ? "member_id_patterns" : "policy_number_patterns";
        f.remarks.push_back("the email labels a " + std::string(IdName(kind)) +
                            " of no configured shape (extract." + key + ")");
      }
      continue;
    }
    field = {best->value, best->confidence, "email"};
    for (const Found& x : all) {
      if (!x.signature && NormalizeId(x.value) != NormalizeId(best->value)) {
        problem("the email names two different " + std::string(IdName(kind)) + "s");
        field.confidence = std::min(field.confidence, 0.5);
        break;
      }
    }
  }
  f.problems = std::move(problems);
}

}  // namespace

EmailFields ExtractEmail(const EmailInfo& email, const Date& today, const ExtractConfig& config) {
  EmailFields f;
  std::vector<EmailLine> lines = SplitEmail(email);
  ReadIds(lines, IdShapes(config), f);
  static const std::vector<std::string> kNameLabels = {
      "MEMBER NAME", "PATIENT NAME", "FULL NAME", "NAME",       "NAMA AHLI", "NAMA PESAKIT",
      "NAMA PENUH",  "NAMA SAYA",    "NAMA",      "MY NAME IS", "I AM",      "SAYA IALAH",
      "姓名",        "名字",         "我叫",      "我是"};

  // Own text first, then forwarded, then quoted; signatures last of all.
  for (int pass = 0; pass < 4; ++pass) {
    for (const auto& l : lines) {
      int want = pass < 3 ? pass : -1;
      if (pass < 3 && (static_cast<int>(l.part) != want || l.signature)) continue;
      if (pass == 3 && !l.signature) continue;
      double c = pass == 0 ? 0.95 : pass == 1 ? 0.85 : pass == 2 ? 0.7 : 0.6;
      const std::string up = ToUpper(l.text);
      if (!f.member_name.present()) {
        std::string n = NameAfter(l.text, kNameLabels);
        if (!n.empty()) f.member_name = {n, c * 0.9, "email"};
      }
      if (!f.total) {
        static const std::vector<std::string> kAmountLabels = {
            "AMOUNT", "TOTAL", "JUMLAH", "CLAIM AMOUNT", "AMAUN", "金额", "总额", "RM"};
        for (const auto& lab : kAmountLabels) {
          if (!MayHold(up, lab)) continue;
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
        // Dates in headers of quoted mail ("On 3 Jan 2019 ... wrote") are
        // not the visit; own text and labelled lines only.
        bool labelled = l.text.find("日期") != std::string::npos;
        for (const char* w : {"DATE", "TARIKH", "VISIT", "TREATMENT", "RAWATAN"}) {
          labelled = labelled || (up.find(w) != std::string::npos && HasLabel(up, w));
        }
        if (labelled && up.find("WROTE") == std::string::npos &&
            up.find("SENT:") == std::string::npos) {
          std::vector<DateToken> d = FindDates(l.text, Date{2000, 1, 1}, today);
          if (!d.empty()) f.service_date = d[0].date;
        }
      }
      if (f.provider.empty()) {
        bool separated = false;
        static const std::vector<std::string> kProviderLabels = {
            "CLINIC", "KLINIK", "HOSPITAL", "PROVIDER", "PANEL", "诊所", "医院"};
        std::string p = NameAfter(l.text, kProviderLabels, &separated);
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
