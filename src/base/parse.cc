#include "ncbocr/parse.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <regex>

namespace ncbocr {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
char Up(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

// Upper-case alphanumerics with single spaces between runs, plus a map from
// each output byte back to the input byte it came from.
std::string Squash(std::string_view s, std::vector<size_t>* map) {
  std::string out;
  bool space = true;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isalnum(c) || c == '&') {
      out += Up(static_cast<char>(c));
      if (map) map->push_back(i);
      space = false;
    } else if (!space) {
      out += ' ';
      if (map) map->push_back(i);
      space = true;
    }
  }
  if (!out.empty() && out.back() == ' ') {
    out.pop_back();
    if (map) map->pop_back();
  }
  return out;
}

bool CurrencyNear(std::string_view line, size_t begin, size_t end) {
  std::string before = ToUpper(line.substr(begin >= 4 ? begin - 4 : 0, begin >= 4 ? 4 : begin));
  std::string after = ToUpper(line.substr(end, 4));
  return before.find("RM") != std::string::npos || before.find("MYR") != std::string::npos ||
         after.find("RM") != std::string::npos || after.find("MYR") != std::string::npos;
}

}  // namespace

std::string FormatCents(Cents c) {
  bool neg = c < 0;
  unsigned long long a = static_cast<unsigned long long>(neg ? -c : c);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", neg ? "-" : "", a / 100, a % 100);
  return buf;
}

std::vector<AmountToken> FindAmounts(std::string_view line) {
  std::vector<AmountToken> out;
  const size_t n = line.size();
  size_t i = 0;
  while (i < n) {
    if (!IsDigit(line[i]) || (i > 0 && (IsDigit(line[i - 1]) || line[i - 1] == '.' ||
                                        line[i - 1] == ',' || line[i - 1] == '/' ||
                                        line[i - 1] == ':'))) {
      ++i;
      continue;
    }
    // Integer part with optional thousands commas ("1,234").
    size_t j = i;
    Cents whole = 0;
    int digits = 0;
    while (j < n && (IsDigit(line[j]) ||
                     (line[j] == ',' && j + 3 < n && IsDigit(line[j + 1]) && IsDigit(line[j + 2]) &&
                      IsDigit(line[j + 3]) && (j + 4 >= n || !IsDigit(line[j + 4]))))) {
      if (line[j] != ',') {
        whole = whole * 10 + (line[j] - '0');
        ++digits;
      }
      ++j;
      if (digits > 9) break;  // too long for money: an id or a barcode
    }
    if (digits > 9) {
      while (j < n && IsDigit(line[j])) ++j;
      i = j;
      continue;
    }
    // Decimal part: '.' (or ',' as OCR often reads it), at most one stray
    // space either side, then exactly two digits.
    size_t k = j;
    if (k < n && line[k] == ' ' && k + 1 < n && (line[k + 1] == '.')) ++k;
    bool dec = false;
    Cents frac = 0;
    size_t end = j;
    if (k < n && (line[k] == '.' || line[k] == ',')) {
      size_t m = k + 1;
      if (m < n && line[m] == ' ') ++m;
      if (m + 1 < n && IsDigit(line[m]) && IsDigit(line[m + 1]) &&
          (m + 2 >= n || !IsDigit(line[m + 2]))) {
        dec = true;
        frac = (line[m] - '0') * 10 + (line[m + 1] - '0');
        end = m + 2;
      } else if (m < n && IsDigit(line[m]) && (m + 1 >= n || !IsDigit(line[m + 1])) &&
                 line[k] == '.') {
        // "RM1234.5": one decimal digit, only trusted next to a currency.
        if (CurrencyNear(line, i, m + 1)) {
          dec = true;
          frac = (line[m] - '0') * 10;
          end = m + 1;
        }
      }
    }
    AmountToken t;
    t.begin = i;
    t.end = end;
    t.has_decimals = dec;
    t.has_currency = CurrencyNear(line, i, end);
    // A following letter or digit makes it part of a code ("12.50KG" is
    // still fine, "9.00A" too -- receipts mark tax codes that way).
    bool ok = dec || (t.has_currency && (end >= n || !IsAlpha(line[end])));
    if (ok) {
      t.cents = whole * 100 + frac;
      // A minus before the number, or before its currency ("-RM0.02").
      size_t b = i;
      while (b > 0 && line[b - 1] == ' ') --b;
      if (b >= 2 && (line.substr(b - 2, 2) == "RM" || line.substr(b - 2, 2) == "rm" || line.substr(b - 2, 2) == "Rm")) {
        b -= 2;
        while (b > 0 && line[b - 1] == ' ') --b;
      }
      bool minus_before = b > 0 && line[b - 1] == '-' && b < i;
      if (minus_before || (i > 0 && line[i - 1] == '-') || (i > 1 && line[i - 1] == ' ' && line[i - 2] == '-' && (i < 3 || line[i - 3] == ' ')) ||
          (end < n && line[end] == '-') || (i > 0 && line[i - 1] == '(' && end < n && line[end] == ')')) {
        t.negative = true;
        t.cents = -t.cents;
      }
      out.push_back(t);
    }
    i = std::max(end, j);
    if (i == j && i < n && !IsDigit(line[i])) ++i;
  }
  return out;
}

std::optional<Cents> ParseAmount(std::string_view s) {
  // A whole string that is one plain number ("43.7", "9", "$7.00") is read
  // leniently: it is a value someone typed, not a line of OCR.
  {
    std::string t;
    for (char c : s) {
      if (c != ' ' && c != '$' && c != ',') t += c;
    }
    std::string u = ToUpper(t);
    if (u.rfind("RM", 0) == 0) t = t.substr(2);
    else if (u.rfind("MYR", 0) == 0) t = t.substr(3);
    else if (u.size() > 3 && u.compare(u.size() - 3, 3, "MYR") == 0) t.resize(t.size() - 3);
    static const std::regex kPlain(R"(^(-?)(\d{1,9})(?:\.(\d{1,2}))?$)");
    std::smatch m;
    if (std::regex_match(t, m, kPlain)) {
      Cents v = std::stoll(m[2].str()) * 100;
      if (m[3].matched) v += m[3].length() == 1 ? (m[3].str()[0] - '0') * 10 : std::stoi(m[3].str());
      return m[1].length() ? -v : v;
    }
  }
  std::vector<AmountToken> a = FindAmounts(s);
  if (a.size() != 1) {
    // A bare integer like "50" is an amount when it is the whole string.
    std::string t = Squash(s, nullptr);
    if (t.rfind("RM ", 0) == 0) t = t.substr(3);
    if (t.size() > 4 && t.compare(t.size() - 4, 4, " MYR") == 0) t.resize(t.size() - 4);
    if (!t.empty() && t.size() <= 9 && std::all_of(t.begin(), t.end(), IsDigit)) return std::stoll(t) * 100;
    return std::nullopt;
  }
  // Everything else in the string must be currency, sign or spacing.
  std::string rest = std::string(s.substr(0, a[0].begin)) + std::string(s.substr(a[0].end));
  std::string r = ToUpper(rest);
  for (const char* w : {"MYR", "RM"}) {
    size_t p = r.find(w);
    if (p != std::string::npos) r.erase(p, std::char_traits<char>::length(w));
  }
  for (char c : r) {
    if (c != ' ' && c != '-' && c != ':' && c != '(' && c != ')') return std::nullopt;
  }
  return a[0].cents;
}

std::string Date::Iso() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

Date LocalDateOf(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

bool IsValidDate(int y, int m, int d) {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
  return d <= max;
}

int MonthFromName(std::string_view name) {
  std::string n = ToUpper(name);
  while (!n.empty() && n.back() == '.') n.pop_back();
  // English and Malay names; each entry is a full name, matched by it or by
  // a prefix of at least three letters.
  static const std::pair<const char*, int> kNames[] = {
      {"JANUARY", 1}, {"JANUARI", 1}, {"FEBRUARY", 2}, {"FEBRUARI", 2}, {"MARCH", 3},
      {"MAC", 3},     {"APRIL", 4},   {"MAY", 5},      {"MEI", 5},      {"JUNE", 6},
      {"JUN", 6},     {"JULY", 7},    {"JULAI", 7},    {"AUGUST", 8},   {"OGOS", 8},
      {"SEPTEMBER", 9}, {"SEPT", 9},  {"OCTOBER", 10}, {"OKTOBER", 10}, {"NOVEMBER", 11},
      {"DECEMBER", 12}, {"DISEMBER", 12}};
  if (n.size() < 3) return 0;
  for (const auto& [full, m] : kNames) {
    std::string_view f(full);
    if (n == f) return m;
    if (n.size() >= 3 && n.size() <= f.size() && f.compare(0, n.size(), n) == 0) return m;
  }
  return 0;
}

namespace {

int ExpandYear(int y) { return y < 100 ? 2000 + y : y; }

}  // namespace

std::vector<DateToken> FindDates(std::string_view line, const Date& earliest, const Date& latest) {
  std::vector<DateToken> out;
  std::string s(line);
  auto keep = [&](int y, int m, int d, size_t b, size_t e, bool numeric) {
    y = ExpandYear(y);
    if (!IsValidDate(y, m, d)) return;
    Date dt{y, m, d};
    if (dt < earliest || dt > latest) return;
    for (const auto& t : out) {
      if (b < t.end && e > t.begin) return;  // overlaps one already found
    }
    out.push_back({dt, b, e, numeric});
  };
  // Year first: 2018-12-25, 2018/12/25.
  static const std::regex kYmd(R"((?:^|[^\d])((?:19|20)\d\d)\s?([-/.])\s?(\d{1,2})\s?\2\s?(\d{1,2})(?!\d))");
  // Day first: 25/12/2018, 25-12-18, 25.12.2018 (OCR may add spaces).
  static const std::regex kDmy(R"((?:^|[^\d])(\d{1,2})\s?([-/.])\s?(\d{1,2})\s?\2\s?(\d{4}|\d{2})(?!\d))");
  // OCR often changes one separator ("12. 03-18", "24 03-18"): a mixed pair
  // is accepted when the second one is a real separator and a time or the
  // end of the line follows, which is how receipts print a date and time.
  static const std::regex kDmyMixed(R"((?:^|[^\d.,])(\d{1,2})\s?([-/.]|\s)\s?(\d{1,2})\s?[-/.]\s?(\d{4}|\d{2})(?=\s+\d{1,2}[:.]\d{2}|\s*$))");
  // Named month: 25 Dec 2018, 25-DEC-18, 5 Ogos 2019, 25Dec2018.
  static const std::regex kDMonY(R"((?:^|[^\d])(\d{1,2})\s?[-/.\s]?\s?([A-Za-z]{3,9})\.?\s?[-/.,\s]?\s?(\d{4}|\d{2})(?!\d))");
  // Month first: Dec 25, 2018.
  static const std::regex kMonDY(R"(([A-Za-z]{3,9})\.?\s(\d{1,2})(?:st|nd|rd|th)?,?\s(\d{4})(?!\d))");
  try {
    for (std::sregex_iterator it(s.begin(), s.end(), kYmd), e; it != e; ++it) {
      const auto& m = *it;
      keep(std::stoi(m[1]), std::stoi(m[3]), std::stoi(m[4]), m.position(1), m.position(4) + m.length(4), true);
    }
    for (std::sregex_iterator it(s.begin(), s.end(), kDmy), e; it != e; ++it) {
      const auto& m = *it;
      keep(std::stoi(m[4]), std::stoi(m[3]), std::stoi(m[1]), m.position(1), m.position(4) + m.length(4), true);
    }
    for (std::sregex_iterator it(s.begin(), s.end(), kDmyMixed), e; it != e; ++it) {
      const auto& m = *it;
      // "5 3.00 3.18" is a quantity and two amounts, not 5 March 2000: a
      // two-digit year after a point reads as sen.
      if (m.length(4) == 2 && s[m.position(4) - 1 - (s[m.position(4) - 1] == ' ' ? 1 : 0)] == '.')
        continue;
      keep(std::stoi(m[4]), std::stoi(m[3]), std::stoi(m[1]), m.position(1), m.position(4) + m.length(4), true);
    }
    for (std::sregex_iterator it(s.begin(), s.end(), kDMonY), e; it != e; ++it) {
      const auto& m = *it;
      int mon = MonthFromName(m[2].str());
      if (mon) keep(std::stoi(m[3]), mon, std::stoi(m[1]), m.position(1), m.position(3) + m.length(3), false);
    }
    for (std::sregex_iterator it(s.begin(), s.end(), kMonDY), e; it != e; ++it) {
      const auto& m = *it;
      int mon = MonthFromName(m[1].str());
      if (mon) keep(std::stoi(m[3]), mon, std::stoi(m[2]), m.position(1), m.position(3) + m.length(3), false);
    }
  } catch (const std::exception&) {
    // std::regex can throw on pathological input (stack); no date then.
  }
  std::sort(out.begin(), out.end(), [](const DateToken& a, const DateToken& b) { return a.begin < b.begin; });
  return out;
}

std::vector<DateToken> FindDatesRepairingYear(std::string_view line, const Date& earliest, const Date& latest) {
  std::vector<DateToken> out;
  static const std::regex kDmy4(R"((?:^|[^\d])(\d{1,2})\s?[-/.]\s?(\d{1,2})\s?[-/.]\s?(\d{4})(?!\d))");
  std::string s(line);
  try {
    for (std::sregex_iterator it(s.begin(), s.end(), kDmy4), e; it != e; ++it) {
      const auto& m = *it;
      int d = std::stoi(m[1]), mo = std::stoi(m[2]);
      std::string y = m[3].str();
      // The most recent plausible year one digit away from what was read.
      std::optional<Date> best;
      for (size_t pos = 0; pos < 4; ++pos) {
        for (char c = '0'; c <= '9'; ++c) {
          if (c == y[pos]) continue;
          std::string t = y;
          t[pos] = c;
          Date dt{std::stoi(t), mo, d};
          if (!IsValidDate(dt.year, mo, d) || dt < earliest || dt > latest) continue;
          if (!best || dt > *best) best = dt;
        }
      }
      if (best) out.push_back({*best, static_cast<size_t>(m.position(1)), static_cast<size_t>(m.position(3) + m.length(3)), true});
    }
  } catch (const std::exception&) {
  }
  return out;
}

std::vector<DateToken> FindDatesLeniently(std::string_view line, const Date& earliest,
                                          const Date& latest) {
  std::vector<DateToken> out;
  // The digit runs of the line, up to a time of day ("14:07") if any.
  struct Run {
    size_t begin, end;
  };
  std::vector<Run> runs;
  for (size_t i = 0; i < line.size();) {
    if (!IsDigit(line[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < line.size() && IsDigit(line[j])) ++j;
    if (j < line.size() && line[j] == ':' && !runs.empty()) break;  // a time: the date is before it
    runs.push_back({i, j});
    i = j;
  }
  // A year (four digits, 19xx or 20xx) after runs that make day and month
  // and nothing else: two runs of one or two digits, or runs that join to
  // four digits (a space OCR put inside "04/0 4/2017"). Anything more is
  // ambiguous.
  for (size_t k = 1; k < runs.size(); ++k) {
    std::string_view y = line.substr(runs[k].begin, runs[k].end - runs[k].begin);
    if (y.size() != 4 || !(y.substr(0, 2) == "19" || y.substr(0, 2) == "20")) continue;
    auto text = [&](size_t i) {
      return std::string(line.substr(runs[i].begin, runs[i].end - runs[i].begin));
    };
    int day = 0, month = 0;
    std::string joined;
    for (size_t i = 0; i < k; ++i) joined += text(i);
    if (k == 2 && text(0).size() <= 2 && text(1).size() <= 2) {
      day = std::stoi(text(0));
      month = std::stoi(text(1));
    } else if (joined.size() == 4) {
      day = std::stoi(joined.substr(0, 2));
      month = std::stoi(joined.substr(2, 2));
    } else {
      break;
    }
    Date dt{std::stoi(std::string(y)), month, day};
    if (IsValidDate(dt.year, month, day) && !(dt < earliest) && !(dt > latest)) {
      out.push_back({dt, runs[0].begin, runs[k].end, true});
    }
    break;
  }
  return out;
}

std::optional<Date> ParseDate(std::string_view s) {
  std::vector<DateToken> d = FindDates(s, Date{1900, 1, 1}, Date{9999, 12, 31});
  if (d.size() != 1) return std::nullopt;
  return d[0].date;
}

Date Today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

std::string NormalizeForMatch(std::string_view s) {
  std::string out;
  bool pending = false;
  for (char ch : s) {
    char c = Up(ch);
    if ((c >= 'A' && c <= 'Z') || IsDigit(c) || c == '&') {
      if (pending && !out.empty()) out += ' ';
      pending = false;
      out += c;
    } else {
      pending = true;
    }
  }
  return out;
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Up(c);
  return out;
}

std::string CollapseSpaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
    } else {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

size_t FindLabelEnd(std::string_view text, std::string_view label) {
  std::vector<size_t> map;
  std::string t = Squash(text, &map);
  std::string l = Squash(label, nullptr);
  if (l.empty()) return std::string_view::npos;
  size_t pos = 0;
  while ((pos = t.find(l, pos)) != std::string::npos) {
    size_t e = pos + l.size();
    bool left = pos == 0 || t[pos - 1] == ' ';
    bool right = e == t.size() || t[e] == ' ';
    if (left && right) return map[e - 1] + 1;
    ++pos;
  }
  return std::string_view::npos;
}

bool HasLabel(std::string_view text, std::string_view label) {
  return FindLabelEnd(text, label) != std::string_view::npos;
}

}  // namespace ncbocr
