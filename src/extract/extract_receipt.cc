// Receipt fields from OCR lines: provider, address, date, receipt number and
// the money lines, cross-checked by the receipt's own arithmetic.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "extract/extract_internal.h"
#include "ncbocr/extract.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

using internal::Line;

// --- vocabulary (generic, not taken from any particular receipt) ---

// Words that end or mark a business name.
const char* const kCompanyMarks[] = {
    "SDN BHD", "SDN. BHD", "BHD", "S B", "BERHAD", "ENTERPRISE", "ENTERPRISES", "TRADING",
    "PLT", "CO", "COMPANY", "LIMITED", "LTD", "INC", "CORPORATION", "STORE", "STORES", "MART",
    "SUPERMARKET", "HYPERMARKET", "RESTAURANT", "RESTORAN", "CAFE", "KEDAI", "PHARMACY",
    "FARMASI", "CLINIC", "KLINIK", "HOSPITAL", "MEDICAL", "DENTAL", "HARDWARE", "BOOKSTORE",
    "STATIONERY", "MARKETING", "SERVICES", "INDUSTRIES", "HOLDINGS", "GROUP", "AGENCY",
    "SYARIKAT", "PERNIAGAAN", "BAKERY", "TRADING CO", "FOOD",
    // A trade in the shop's name, as PHARMACY or DENTAL are; optical shops
    // are providers of a claim type of their own (spectacles, lenses).
    "OPTICAL"};

// Header lines that are document titles or greetings, never the provider.
const char* const kTitleWords[] = {
    "TAX INVOICE", "INVOICE", "RECEIPT", "OFFICIAL RECEIPT", "CASH BILL", "CASH SALES",
    "SIMPLIFIED TAX INVOICE", "BILL", "WELCOME", "WELCOME TO", "THANK YOU", "COPY", "RESIT",
    "RESIT RASMI", "CASH RECEIPT", "SALES RECEIPT", "PAYMENT RECEIPT", "CUSTOMER COPY",
    "MERCHANT COPY", "DUPLICATE", "REPRINT", "ORIGINAL"};

// Malaysian states and federal territories, and common address words.
const char* const kStates[] = {
    "JOHOR", "KEDAH", "KELANTAN", "MELAKA", "MALACCA", "NEGERI SEMBILAN", "N SEMBILAN",
    "PAHANG", "PULAU PINANG", "PENANG", "PINANG", "PERAK", "PERLIS", "SABAH", "SARAWAK",
    "SELANGOR", "SELANGOR DARUL EHSAN", "TERENGGANU", "KUALA LUMPUR", "WILAYAH PERSEKUTUAN",
    "PUTRAJAYA", "LABUAN", "MALAYSIA", "JOHOR DARUL TAKZIM", "DARUL EHSAN", "DARUL TAKZIM"};
const char* const kAddressWords[] = {
    "JALAN", "JLN", "TAMAN", "TMN", "LOT", "NO", "LORONG", "PERSIARAN", "LEBUH", "LEBUHRAYA",
    "KAMPUNG", "KG", "BANDAR", "BATU", "BLOK", "BLOCK", "ARAS", "LEVEL", "FLOOR", "TINGKAT",
    "PUSAT", "KOMPLEKS", "PLAZA", "MALL", "SEKSYEN", "SECTION", "INDUSTRIAL", "PERINDUSTRIAN",
    "STREET", "ROAD", "AVENUE", "WISMA", "MENARA", "SUITE", "UNIT", "PT", "KM", "BDR", "SG",
    "SUNGAI", "BUKIT", "BKT", "SRI", "SERI", "UTAMA", "JAYA", "BARU", "PARK", "CENTRE", "CENTER"};

// Labels before a line's tail that end an address block.
const char* const kContactLabels[] = {"TEL", "TEL NO", "TELEPHONE", "PHONE", "FAX", "H P", "HP",
                                      "MOBILE", "EMAIL", "E MAIL", "WEBSITE", "WWW", "GST ID",
                                      "GST NO", "GST REG", "SST ID", "SST NO", "SST REG",
                                      "CO REG", "COMPANY REG", "REG NO", "ROC", "BUSINESS REG"};

bool HasAny(const std::string& text, const char* const* labels, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (HasLabel(text, labels[i])) return true;
  }
  return false;
}
template <size_t N>
bool HasAny(const std::string& text, const char* const (&labels)[N]) {
  return HasAny(text, labels, N);
}

int CountUpper(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += std::isupper(c) != 0;
  return n;
}
int CountDigits(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += std::isdigit(c) != 0;
  return n;
}

// A Malaysian postcode: five digits standing alone, 01000..98859.
// True when the word before s[at] (spaces, dots, colons and # between) is
// a lot's label: "LOT 34817", "PT. 20511", "No: 12345" are lots and houses,
// not postcodes.
bool AfterLotLabel(const std::string& s, size_t at) {
  size_t end = at;
  while (end > 0 && std::strchr(" .:#", s[end - 1])) --end;
  size_t begin = end;
  while (begin > 0 && (std::isalpha(static_cast<unsigned char>(s[begin - 1])) || s[begin - 1] == '.')) --begin;
  std::string word;
  for (size_t k = begin; k < end; ++k)
    if (s[k] != '.') word += static_cast<char>(std::toupper(static_cast<unsigned char>(s[k])));
  return word == "LOT" || word == "PT" || word == "PTD" || word == "NO" || word == "PLOT";
}

bool HasPostcode(const std::string& s) {
  for (size_t i = 0; i + 5 <= s.size(); ++i) {
    // Five digits standing alone: not inside a longer number or a
    // registration number such as "81109-A" or "L13825-W".
    if ((i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1]))) &&
        std::all_of(s.begin() + i, s.begin() + i + 5, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
        (i + 5 == s.size() || (!std::isdigit(static_cast<unsigned char>(s[i + 5])) && s[i + 5] != '-' &&
                               !std::isalpha(static_cast<unsigned char>(s[i + 5]))))) {
      int v = std::stoi(s.substr(i, 5));
      if (v >= 1000 && v <= 98859 && !AfterLotLabel(s, i)) return true;
    }
  }
  return false;
}

// A company or GST registration number line, or one that is mostly such a
// number ("789417-W", "(123456-X)", "GST ID: 000123456789").
bool IsRegistrationLine(const std::string& s) {
  std::string n = NormalizeForMatch(s);
  if (n.empty()) return false;
  if (HasLabel(n, "GST") || HasLabel(n, "SST") || HasLabel(n, "CO REG") || HasLabel(n, "ROC") ||
      HasLabel(n, "REG NO") || HasLabel(n, "COMPANY NO") || HasLabel(n, "CO NO") ||
      HasLabel(n, "BUSINESS REG")) {
    return CountDigits(s) >= 5 || HasLabel(n, "ID") || HasLabel(n, "NO");
  }
  int digits = CountDigits(s), alpha = internal::CountAlphaChars(s);
  // "(123456-X)" and the like; "LOT 2685" is an address line.
  return digits >= 4 && alpha <= 3 && !HasAny(n, kAddressWords);
}

int EditDistance(const std::string& a, const std::string& b);

// OCR slips in the generic company-form words: "SON BHO", "SDN BELD",
// "SIN BHD" -> "SDN BHD"; "5/B", "$/B" -> "S/B"; look-alike symbols in
// letters ("D.I.¥." -> "D.I.Y."). Text after the company form that holds
// digits or a broken bracket is a registration number or noise: dropped.
std::string FixCompanyForm(const std::string& in) {
  std::string s;
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == 0xC2 && i + 1 < in.size()) {
      unsigned char d = static_cast<unsigned char>(in[i + 1]);
      if (d == 0xA5) { s += 'Y'; ++i; continue; }   // ¥
      if (d == 0xA7) { s += 'S'; ++i; continue; }   // §
      if (d == 0xA9) { s += 'C'; ++i; continue; }   // ©
    }
    s += static_cast<char>(c);
  }
  try {
    // No space inside a name's brackets: "( SUNGAI RENGIT )", "(KL )".
    static const std::regex kOpen(R"(\(\s+)"), kClose(R"(\s+\))");
    s = std::regex_replace(std::regex_replace(s, kOpen, "("), kClose, ")");
    // "(M) SDN BHD", Malaysia's mark, with its M read as an H or N or
    // followed by a scrap ("(H)", "(MH)", "(Mj)"): no other one- or
    // two-letter bracket of those shapes stands before the company form.
    static const std::regex kMark(R"(\((?:H|N|M[Hj1l|])\)(?=\s*S\s*[DO0]\s*N\b))");
    s = std::regex_replace(s, kMark, "(M)");
  } catch (const std::exception&) {
  }
  // Words, keeping their positions.
  std::vector<std::pair<size_t, size_t>> words;
  for (size_t i = 0; i < s.size();) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t b = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > b) words.push_back({b, i});
  }
  auto letters = [&](size_t k) {
    std::string w;
    for (size_t i = words[k].first; i < words[k].second; ++i) {
      char c = static_cast<char>(std::toupper(static_cast<unsigned char>(s[i])));
      if (std::isalnum(static_cast<unsigned char>(c))) w += c;
    }
    return w;
  };
  for (size_t k = 0; k + 1 < words.size(); ++k) {
    std::string a = letters(k), b = letters(k + 1);
    if (a.size() == 3 && EditDistance(a, "SDN") <= 1 && b.size() >= 2 && b.size() <= 4 &&
        EditDistance(b, "BHD") <= 2 && b[0] == 'B') {
      std::string head = s.substr(0, words[k].first);
      std::string tail = s.substr(words[k + 1].second);
      bool dots = s.find('.', words[k].first) < words[k + 1].second;
      s = head + (dots ? "SDN. BHD." : "SDN BHD");
      size_t form_end = s.size();
      // Keep a tail only if it is plain words (a branch name), else drop it.
      std::string t = Trim(tail);
      bool junk = CountDigits(t) > 0 || t.find('(') != std::string::npos || t.find(')') != std::string::npos;
      if (!t.empty() && !junk) s += " " + t;
      (void)form_end;
      return s;
    }
  }
  // "S/B" written as "5/B", "$/B", "S/8".
  static const std::regex kSB(R"((^|\s)[S5$]\s?/\s?[B8](?=\s|$))");
  s = std::regex_replace(s, kSB, "$1S/B");
  // After "S/B" only a registration number or noise follows ("S/B8 273500-U").
  static const std::regex kSBTail(R"((^|\s)S/B\S*\s*(.*)$)");
  std::smatch m;
  if (std::regex_search(s, m, kSBTail) && CountDigits(m[2].str()) + CountDigits(m[0].str()) > 0) {
    s = s.substr(0, m.position(0)) + m[1].str() + "S/B";
  }
  // "SDN B HD", "SDN BH D": the form split by a space.
  static const std::regex kSplitBhd(R"(\bSDN\.?\s+B\s?H\s?D\b)");
  s = std::regex_replace(s, kSplitBhd, "SDN BHD");
  return s;
}

// Removes registration numbers and what follows a contact label.
// Digits inside words of letters are letters misread: "D.1.Y." -> "D.I.Y.",
// "B00KS" -> "BOOKS". A digit counts as inside a word when the nearest
// characters on both sides, dots aside, are letters.
std::string FixLettersInWords(const std::string& in) {
  std::string s = in;
  auto letter = [&](long i, int step) {
    for (; i >= 0 && i < static_cast<long>(s.size()); i += step) {
      if (s[i] == '.') continue;
      return std::isalpha(static_cast<unsigned char>(s[i])) != 0;
    }
    return false;
  };
  for (long i = 0; i < static_cast<long>(s.size()); ++i) {
    char to = 0;
    switch (s[i]) {
      case '1': case '|': case '!': to = 'I'; break;
      case '0': to = 'O'; break;
      case '5': to = 'S'; break;
      case '8': to = 'B'; break;
      default: break;
    }
    if (to && letter(i - 1, -1) && letter(i + 1, 1)) s[i] = to;
  }
  return s;
}

std::string CleanName(std::string s) {
  s = FixCompanyForm(FixLettersInWords(s));
  // "(123456-X)", "(1234567-A)", "[12345-P]", "(201901000123)"
  static const std::regex kReg(R"(\s*[\(\[]?\s*(?:CO\.?\s*(?:REG\.?\s*)?NO\.?\s*:?\s*)?\d{4,12}\s*-?\s*[A-Za-z]?\s*[\)\]]?\s*$)");
  static const std::regex kRegMid(R"(\s*[\(\[]\s*\d{4,12}\s*-?\s*[A-Za-z]?\s*[\)\]])");
  // OCR may turn digits of the number into letters: "80Z7Z5-U".
  static const std::regex kRegOcr(R"(\s+[\(\[]?[A-Z0-9]{5,12}-[A-Za-z][\)\]]?\s*$)");
  try {
    s = std::regex_replace(s, kRegMid, "");
    s = std::regex_replace(s, kReg, "");
    std::smatch m;
    if (std::regex_search(s, m, kRegOcr) && CountDigits(m[0].str()) >= 3) s = s.substr(0, m.position(0));
    // A trailing bracket holding digits, or left open with a scrap in it,
    // is a registration number OCR broke: "($19S37-x)", "(S".
    static const std::regex kOpenTail(R"(\s*[\(\[][^\)\]]{0,3}$)");
    static const std::regex kDigitsTail(R"(\s*[\(\[][^\)\]]*\d[^\)\]]*[\)\]]?\s*$)");
    s = std::regex_replace(s, kDigitsTail, "");
    s = std::regex_replace(s, kOpenTail, "");
  } catch (const std::exception&) {
  }
  // A scrap after the legal form ("SDN BHD f", "SDN BHD “=e") is OCR
  // noise from the edge of the paper or a logo, not part of the name.
  std::string up = ToUpper(s);
  for (const char* form : {"BHD", "BERHAD", "PLT", "S/B"}) {
    size_t at = up.rfind(form);
    if (at == std::string::npos) continue;
    size_t end = at + std::char_traits<char>::length(form);
    if (end < up.size() && std::isalnum(static_cast<unsigned char>(up[end])))
      continue;  // a longer word
    int alnum = 0;
    for (size_t i = end; i < s.size(); ++i)
      alnum += std::isalnum(static_cast<unsigned char>(s[i])) ? 1 : 0;
    const bool dots_only = s.find_first_not_of(". ", end) == std::string::npos;
    if (alnum <= 2 && !dots_only && s.find('(', end) == std::string::npos) s.resize(end);
    break;
  }
  return CollapseSpaces(s);
}

// Words that end an address line when they follow it on the same row: the
// receipt's title, the table or the cashier printed beside the address.
const char* const kAddressEnders[] = {"TABLE",   "PAX",     "CASHIER", "TAX INVOICE",
                                      "INVOICE", "RECEIPT", "BILL NO"};

std::string CutAtContact(const std::string& s) {
  size_t cut = std::string::npos;
  static const std::vector<const char*> labels = [] {
    std::vector<const char*> v(std::begin(kContactLabels), std::end(kContactLabels));
    v.insert(v.end(), std::begin(kAddressEnders), std::end(kAddressEnders));
    return v;
  }();
  for (const char* l : labels) {
    size_t e = FindLabelEnd(s, l);
    if (e == std::string::npos) continue;
    // FindLabelEnd gives the end; find where the label starts.
    std::string up = ToUpper(s);
    size_t b = up.rfind(std::string(l).substr(0, 2), e);
    if (b != std::string::npos && b < cut) cut = b;
  }
  return cut == std::string::npos ? s : Trim(s.substr(0, cut));
}

bool IsTitle(const std::string& s) {
  std::string n = NormalizeForMatch(s);
  for (const char* t : kTitleWords) {
    if (n == t) return true;
  }
  // Or made only of document-title words ("TAX INVOICE / ADJUSTMENT NOTE").
  static const char* const kWords[] = {"TAX", "INVOICE", "RECEIPT", "OFFICIAL", "CASH", "BILL", "SALES",
                                       "SIMPLIFIED", "ADJUSTMENT", "NOTE", "CREDIT", "DEBIT", "COPY",
                                       "CUSTOMER", "MERCHANT", "DUPLICATE", "REPRINT", "ORIGINAL", "WELCOME",
                                       "TO", "THANK", "YOU", "RESIT", "RASMI", "PAYMENT", "ORDER", "FULL",
                                       "ABBREVIATED", "DELIVERY", "ORDER", "QUOTATION", "STATEMENT"};
  if (n.empty()) return false;
  size_t start = 0;
  while (start < n.size()) {
    size_t sp = n.find(' ', start);
    std::string w = n.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
    bool ok = false;
    // One letter off in a long word is OCR ("TAX INVOTCE").
    for (const char* k : kWords) ok |= w == k || (w.size() >= 6 && EditDistance(w, k) <= 1);
    if (!ok) return false;
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  return true;
}

bool LooksLikeNameLine(const Line& l) {
  const std::string& s = l.text;
  int alpha = internal::CountAlphaChars(s);
  if (alpha < 3) return false;
  // A line with no capital at all is usually a handwritten or stamped note
  // on the scan, not the provider's printed name.
  if (CountUpper(s) == 0) return false;
  // A registration number after the name ("Dion Realties Sdn Bhd (Co.
  // No:20154-T)") does not make the line a registration line.
  if (IsTitle(s)) return false;
  if (IsRegistrationLine(s)) {
    const std::string rest = ToUpper(CleanName(s));
    if (IsRegistrationLine(rest) || HasLabel(rest, "GST") || HasLabel(rest, "SST") ||
        HasLabel(rest, "REG") || !HasAny(rest, kCompanyMarks)) {
      return false;
    }
  }
  if (HasAny(ToUpper(s), kContactLabels)) return false;
  if (s.find('@') != std::string::npos) return false;
  if (!FindAmounts(s).empty()) return false;
  if (l.confidence < 0.35) return false;
  return true;
}

// A line that is only a company-form suffix: "SDN. BHD.", "CO. (M) SDN BHD".
// "RESTAURANT SDN BHD", "(SEMENYIH) SDN BHD": the name's first word says
// what kind of business it is, or a branch, rather than whose.
bool StartsWithGenericWord(const std::string& name) {
  std::string n = Trim(name);
  if (!n.empty() && n[0] == '(') return true;
  std::string first = ToUpper(n.substr(0, n.find(' ')));
  static const char* const kKinds[] = {
      "RESTAURANT",  "RESTORAN",  "CAFE",     "BAKERY",     "PHARMACY", "FARMASI",
      "CLINIC",      "KLINIK",    "HARDWARE", "STATIONERY", "TRADING",  "ENTERPRISE",
      "ENTERPRISES", "MARKETING", "SERVICES", "INDUSTRIES", "HOLDINGS", "SUPERMARKET",
      "HYPERMARKET", "MART",      "STORE",    "FOOD",       "MEDICAL"};
  for (const char* k : kKinds) {
    if (first == k) return true;
  }
  return false;
}

bool IsSuffixOnly(const std::string& s) {
  std::string n = NormalizeForMatch(CleanName(s));
  static const char* const kParts[] = {"SDN", "BHD", "BND", "CO", "M", "BERHAD", "PLT", "LTD", "LIMITED", "S", "B"};
  if (n.empty()) return false;
  size_t start = 0;
  bool any = false, scrap = false;
  while (start < n.size()) {
    size_t sp = n.find(' ', start);
    std::string w = n.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
    bool ok = false;
    for (const char* p : kParts) ok |= w == p;
    // "CO. (MH) SDN BHD": one short scrap (the "(M)" of Malaysia misread)
    // in an otherwise short suffix line.
    if (!ok && w.size() <= 2 && !scrap && std::count(n.begin(), n.end(), ' ') <= 3)
      ok = scrap = true;
    if (!ok) return false;
    any |= w == "SDN" || w == "BHD" || w == "BERHAD" || w == "PLT" || w == "LTD" || w == "LIMITED";
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  return any;
}

// Edit distance between short strings, capped early (only <= 1 matters).
int EditDistance(const std::string& a, const std::string& b) {
  if (a.size() > b.size() + 1 || b.size() > a.size() + 1) return 2;
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// A short line naming a state: "JOHOR.", "SELANGOR DARUL EHSAN",
// "CAMERON HIGHLANDS, PAHANG", or an OCR slip of one ("SE_ANGOR").
bool IsStateLine(const std::string& s) {
  std::string n = NormalizeForMatch(s);
  if (n.empty() || n.size() > 40 || CountDigits(n) > 0) return false;
  std::string letters;
  for (char c : n) {
    if (c >= 'A' && c <= 'Z') letters += c;
  }
  for (const char* st : kStates) {
    std::string_view v(st);
    if (n.compare(0, v.size(), v) == 0 && (n.size() == v.size() || n[v.size()] == ' ')) return true;
    if (n.size() > v.size() && n.compare(n.size() - v.size(), v.size(), v) == 0 && n[n.size() - v.size() - 1] == ' ') {
      return true;
    }
    std::string vl;
    for (char c : v) {
      if (c != ' ') vl += c;
    }
    if (vl.size() >= 6 && EditDistance(letters, vl) <= 1) return true;
  }
  return false;
}

// The postcode ends the line ("... BANDAR UTAMA, 44300"): the town follows.
bool PostcodeAtEnd(const std::string& s) {
  std::string n = NormalizeForMatch(s);
  if (n.size() < 5) return false;
  std::string tail = n.substr(n.size() - 5);
  return std::all_of(tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         (n.size() == 5 || n[n.size() - 6] == ' ') && HasPostcode(tail);
}

// Rewrites each word of text (a run of letters and digits that starts with
// a letter) by fix(word, end), end being where the word ends in text; the
// rest of text is kept as it is.
std::string MapWords(const std::string& text,
                     const std::function<std::string(const std::string&, size_t)>& fix) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isalpha(static_cast<unsigned char>(text[i]))) {
      out += text[i++];
      continue;
    }
    size_t b = i;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '|'))
      ++i;
    out += fix(text.substr(b, i - b), i);
  }
  return out;
}

// OCR slips in the words of receipt-number labels ("Involce No",
// "Doz No", "RECElPT"): each word within one edit of a label word becomes
// that word, so the label lookup below finds it.
std::string RepairLabelWords(const std::string& text) {
  static const char* const kWords[] = {"INVOICE", "RECEIPT", "DOCUMENT", "NUMBER",
                                       "TRANSACTION", "RESIT", "TRANS", "ORDER"};
  return MapWords(text, [&](const std::string& w, size_t i) {
    std::string up = ToUpper(w), fixed = w;
    for (const char* k : kWords) {
      if (up.size() >= 5 && up != k && EditDistance(up, k) <= 1) fixed = k;
    }
    // "BILL" with an L read as a 1 or an I ("Bil1#:V001-540401", "Bi11#",
    // "BILI. NO").
    auto l_like = [](char c) { return c == 'L' || c == 'I' || c == '1'; };
    if (up.size() == 4 && up[0] == 'B' && l_like(up[1]) && l_like(up[2]) && l_like(up[3]) && up != "BILL")
      fixed = "BILL";
    // "InvNo", "INVNO", "TaxInv": the label's two words run together.
    if (up == "INVNO" || up == "BILLNO" || up == "DOCNO" || up == "RECEIPTNO")
      fixed = up.substr(0, up.size() - 2) + " NO";
    if (up == "TAXINV") fixed = "TAX INV";
    // "INV#" read as "INY#", "1NV#".
    if (up.size() == 3 && EditDistance(up, "INV") <= 1 && up != "INV" && i < text.size() &&
        text[i] == '#')
      fixed = "INV";
    // "DOC NO" read as "DOZ NO", "D0C NO", "OOC NO".
    if (up.size() == 3 && EditDistance(up, "DOC") <= 1 && up != "DOC") {
      size_t n = text.find_first_not_of(" .:", i);
      if (n != std::string::npos && n + 2 <= text.size() && ToUpper(text.substr(n, 2)) == "NO")
        fixed = "DOC";
    }
    return fixed;
  });
}

}  // namespace

namespace internal {

bool IsKnownWord(const std::string& word) {
  static const std::set<std::string> known = [] {
    std::set<std::string> k;
    auto add = [&k](const char* const* list, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        std::string w;
        for (const char* c = list[i];; ++c) {
          if (std::isalpha(static_cast<unsigned char>(*c))) {
            w += *c;
            continue;
          }
          if (w.size() >= 2) k.insert(w);
          w.clear();
          if (*c == '\0') break;
        }
      }
    };
    add(kCompanyMarks, std::size(kCompanyMarks));
    add(kStates, std::size(kStates));
    add(kAddressWords, std::size(kAddressWords));
    return k;
  }();
  return known.count(ToUpper(word)) > 0;
}

}  // namespace internal

namespace {

// `fix` (capitals) in the case of `word`: all capitals, capitalised or small.
std::string InCaseOf(const std::string& word, const std::string& fix) {
  bool lower = false;
  for (char c : word) lower |= std::islower(static_cast<unsigned char>(c)) != 0;
  bool capitalised = !word.empty() && std::isupper(static_cast<unsigned char>(word[0]));
  std::string out = fix;
  if (!lower) return out;
  for (size_t c = 0; c < out.size(); ++c) {
    if (c == 0 && capitalised) continue;
    out[c] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[c])));
  }
  return out;
}

// Words of Malaysian addresses common enough that a word one letter off
// (same length) is a misreading of them; none has a real word one letter
// away that addresses use (UTAMA/UTARA, PULAU/PULAI, TAMAN/LAMAN,
// DAMAI/DAMAR and the like are left out for that).
const char* const kFixableAddressWords[] = {
    "JALAN", "LORONG", "PERSIARAN", "LEBUHRAYA", "KAMPUNG", "BANDAR", "SEKSYEN", "KAWASAN",
    "PERINDUSTRIAN", "INDUSTRI", "MENARA", "KOMPLEKS", "KUALA", "LUMPUR", "SELANGOR", "JOHOR",
    "BAHRU", "DARUL", "EHSAN", "TAKZIM", "MAKMUR", "RIDZUAN", "MALAYSIA", "MELAKA", "PAHANG",
    "KELANTAN", "TERENGGANU", "SARAWAK", "NEGERI", "SEMBILAN", "PETALING", "PUTRAJAYA",
    "CYBERJAYA", "GROUND", "FLOOR", "BASEMENT", "TEMENGGUNG", "KEMBANGAN", "DAMANSARA",
    "PUCHONG", "CHERAS", "AMPANG", "KAJANG", "RAWANG", "SEREMBAN", "KUANTAN", "SKUDAI",
    "PLENTONG", "PERMAS", "TEBRAU", "SETAPAK", "KEPONG", "BANGSAR", "SUBANG", "BALAKONG",
    "SEMENYIH", "DENGKIL", "BANTING", "SELAYANG", "GOMBAK", "BENTONG", "TEMERLOH",
    "BUTTERWORTH", "TAIPING", "SEGAMAT", "KLUANG", "PONTIAN", "KINABALU", "SANDAKAN",
    "KUCHING", "SEBERANG", "MERTAJAM", "PETANI", "GUDANG", "PERDANA", "SENTOSA", "MUTIARA"};

// Malaysian place names of two words: a pair of words one edit off one
// (a letter changed, lost or added: "SHAH ALAN", "SHAT ALAM", "Shah Alami")
// is a misreading of it, where a word alone is too short to tell.
const char* const kPlacePhrases[] = {
    "SHAH ALAM", "PETALING JAYA", "SUBANG JAYA", "SERI KEMBANGAN", "JOHOR BAHRU",
    "KUALA LUMPUR", "KOTA BHARU", "KOTA KINABALU", "BATU PAHAT", "PASIR GUDANG", "ALOR SETAR",
    "SUNGAI PETANI", "SUNGAI BULOH", "BUKIT MERTAJAM", "GEORGE TOWN", "BATU CAVES",
    "PORT KLANG", "SETIA ALAM", "PERMAS JAYA", "WANGSA MAJU", "SRI PETALING", "KOTA DAMANSARA",
    "MUTIARA DAMANSARA", "BANDAR SUNWAY", "BANDAR BARU", "BANDAR UTAMA", "SEBERANG PERAI",
    "KUALA TERENGGANU", "KUALA SELANGOR", "TELUK INTAN", "BUKIT JALIL", "BUKIT BINTANG",
    "DARUL EHSAN", "DARUL TAKZIM", "DARUL MAKMUR", "DARUL RIDZUAN", "NEGERI SEMBILAN"};

// A floor's ordinal with its digit read as a letter ("SRD FLR"): the
// suffix says which digit it is.
std::string FixOrdinal(const std::string& word, const std::string& next) {
  if (word.size() != 3) return word;
  std::string up = ToUpper(word), nx = ToUpper(next);
  if (nx != "FLR" && nx != "FLOOR" && nx != "FL" && nx != "FLOORS") return word;
  std::string suffix = up.substr(1);
  char c = up[0], digit = 0;
  if (suffix == "ST" && (c == 'I' || c == 'L')) digit = '1';
  if (suffix == "ND" && c == 'Z') digit = '2';
  if (suffix == "RD" && (c == 'S' || c == 'B' || c == 'E')) digit = '3';
  if (suffix == "TH") {
    if (c == 'A') digit = '4';
    if (c == 'S') digit = '5';
    if (c == 'G' || c == 'B') digit = c == 'G' ? '6' : '8';
    if (c == 'T') digit = '7';
  }
  if (!digit) return word;
  return std::string(1, digit) + word.substr(1);
}

// Spaces on both sides of an & that has one on one side only ("14& 16").
std::string SpaceAmpersands(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&' && i > 0 && i + 1 < text.size()) {
      bool before = text[i - 1] == ' ', after = text[i + 1] == ' ';
      if (before != after) {
        if (!before) out += ' ';
        out += '&';
        if (!after) out += ' ';
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

struct WordSpan {
  size_t begin, end;  // a run of letters in the text
};

// The runs of characters `in_run` holds, in order.
template <typename Pred>
std::vector<WordSpan> RunsOf(const std::string& text, Pred in_run) {
  std::vector<WordSpan> words;
  for (size_t i = 0; i < text.size();) {
    if (!in_run(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t b = i;
    while (i < text.size() && in_run(static_cast<unsigned char>(text[i]))) ++i;
    words.push_back({b, i});
  }
  return words;
}

std::vector<WordSpan> LetterRuns(const std::string& text) {
  return RunsOf(text, [](unsigned char c) { return std::isalpha(c) != 0; });
}

// Calls `visit(a, b)` on each two runs of letters of `text` with one space
// between them, the last pair first, so that a change to a pair leaves the
// places of those before it as they were. When `visit` changed the pair
// (returns true), the pair before it, which shares a word, is skipped.
template <typename Visit>
void ForSpacedWordPairs(std::string& text, Visit visit) {
  std::vector<WordSpan> w = LetterRuns(text);
  for (size_t k = w.size(); k-- > 1;) {
    if (w[k].begin != w[k - 1].end + 1 || text[w[k - 1].end] != ' ') continue;
    if (visit(w[k - 1], w[k])) --k;
  }
}

// Two words split by a stray space ("PERINDUS TRIAN"), joined where
// together they are a common address word and neither is a word alone.
std::string JoinSplitAddressWords(const std::string& text) {
  std::string out = text;
  ForSpacedWordPairs(out, [&out](const WordSpan& a, const WordSpan& b) {
    if ((a.begin > 0 && std::isdigit(static_cast<unsigned char>(out[a.begin - 1]))) ||
        (b.end < out.size() && std::isdigit(static_cast<unsigned char>(out[b.end]))))
      return false;
    std::string wa = ToUpper(out.substr(a.begin, a.end - a.begin));
    std::string wb = ToUpper(out.substr(b.begin, b.end - b.begin));
    if (internal::IsKnownWord(wa) || internal::IsKnownWord(wb)) return false;
    for (const char* f : kFixableAddressWords) {
      if (wa + wb == f) {
        out.erase(a.end, 1);
        return true;
      }
    }
    return false;
  });
  return out;
}

// Pairs of words one edit off a place name of kPlacePhrases, as that name.
std::string FixPlacePhrases(const std::string& text) {
  std::string out = text;
  ForSpacedWordPairs(out, [&out](const WordSpan& a, const WordSpan& b) {
    if (b.end < out.size() && std::isdigit(static_cast<unsigned char>(out[b.end]))) return false;
    std::string wa = out.substr(a.begin, a.end - a.begin), wb = out.substr(b.begin, b.end - b.begin);
    std::string pair = ToUpper(wa) + " " + ToUpper(wb);
    const char* fix = nullptr;
    int found = 0;
    for (const char* p : kPlacePhrases) {
      if (pair == p) return false;
      if (EditDistance(pair, p) == 1) fix = p, ++found;
    }
    if (found != 1) return false;
    std::string_view f(fix);
    size_t space = f.find(' ');
    std::string pa(f.substr(0, space)), pb(f.substr(space + 1));
    // The space must stand where it stood: the edit is inside a word.
    if (pa.size() + 1 < wa.size() || wa.size() + 1 < pa.size()) return false;
    out.replace(b.begin, b.end - b.begin, InCaseOf(wb, pb));
    out.replace(a.begin, a.end - a.begin, InCaseOf(wa, pa));
    return true;
  });
  return out;
}

// A run of $ signs starting a short code ("Lot $25", "Jalan $$21/39") is a
// run of misread S's: an address holds no money. Before four digits or
// more the $ is a lost digit of a postcode or a number ("$1750"), and stands.
std::string DollarsAsS(const std::string& text) {
  std::string out = text;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] != '$' || (i > 0 && std::isalnum(static_cast<unsigned char>(out[i - 1])))) continue;
    size_t j = i;
    while (j < out.size() && out[j] == '$') ++j;
    size_t k = j;
    while (k < out.size() && std::isalnum(static_cast<unsigned char>(out[k]))) ++k;
    if (k > j && k - j <= 3) std::fill(out.begin() + i, out.begin() + j, 'S');
    i = j;
  }
  return out;
}

// The digit a letter stands for in a code's number ("UL3" is U13).
char DigitFor(char c) {
  switch (c) {
    case 'O': return '0';
    case 'I': case 'L': return '1';
    case 'Z': return '2';
    case 'S': return '5';
    case 'G': return '6';
    case 'B': return '8';
    default: return std::isdigit(static_cast<unsigned char>(c)) ? c : 0;
  }
}

// Section codes of Malaysian townships (Shah Alam's U1 to U20, Petaling
// Jaya's SS, PJU and PJS, Subang Jaya's USJ): a prefix, a number of one or
// two digits and perhaps a letter ("PJU6A"), with a digit of the number
// read as a letter ("UL3/X", "SEKSYEN US", "PJUGA"). PJU, PJS and USJ
// begin no word, so the code is mended wherever it stands; U and SS do
// ("US", "SSO"), so only where the number holds a real digit, a / follows
// ("US/BM") or a section word comes before ("SEKSYEN US"). SS with its
// second S read as a digit is mended where a / follows ("S521/39").
std::string FixSectionCodes(const std::string& text) {
  std::string out = text;  // mended in place: a digit for a letter keeps every run where it was
  for (const WordSpan& run : RunsOf(text, [](unsigned char c) { return std::isalnum(c) != 0; })) {
    const size_t b = run.begin, i = run.end;
    std::string token = out.substr(b, i - b);
    if (token != ToUpper(token)) continue;
    // SS's second S read as a 5 or an 8 ("S521/39"): a code, as the /
    // after its number shows; no street number starts with an S.
    if ((token.size() == 3 || token.size() == 4) && token[0] == 'S' && (token[1] == '5' || token[1] == '8') &&
        std::all_of(token.begin() + 2, token.end(), [](unsigned char c) { return std::isdigit(c); }) &&
        i < out.size() && out[i] == '/') {
      out[b + 1] = 'S';
      continue;
    }
    static const char* const kPrefixes[] = {"PJU", "PJS", "USJ", "SS", "U"};
    std::string prefix;
    for (const char* p : kPrefixes) {
      if (token.rfind(p, 0) == 0) {
        prefix = p;
        break;
      }
    }
    if (prefix.empty()) continue;
    std::string body = token.substr(prefix.size());
    size_t n = 0;
    while (n < body.size() && n < 2 && DigitFor(body[n])) ++n;
    if (n == 0 || body.size() > n + 1) continue;
    if (n < body.size() && !std::isalpha(static_cast<unsigned char>(body[n]))) continue;
    std::string number = body.substr(0, n);
    bool letters = false, digit = false;
    for (char c : number) {
      letters |= std::isalpha(static_cast<unsigned char>(c)) != 0;
      digit |= std::isdigit(static_cast<unsigned char>(c)) != 0;
    }
    if (!letters) continue;
    bool sure = prefix.size() == 3 || digit || (i < out.size() && out[i] == '/');
    if (!sure) {
      std::string before = ToUpper(out.substr(0, b));
      while (!before.empty() && (before.back() == ' ' || before.back() == ',')) before.pop_back();
      for (const char* w : {"SEKSYEN", "SECTION", "SEK"}) {
        std::string_view wv(w);
        if (before.size() >= wv.size() && before.compare(before.size() - wv.size(), wv.size(), wv) == 0 &&
            (before.size() == wv.size() || !std::isalpha(static_cast<unsigned char>(before[before.size() - wv.size() - 1]))))
          sure = true;
      }
    }
    if (!sure) continue;
    for (size_t c = 0; c < n; ++c) out[b + prefix.size() + c] = DigitFor(body[c]);
  }
  return out;
}

}  // namespace

namespace internal {

std::string TidyAddressWords(const std::string& text) {
  std::string spaced = JoinSplitAddressWords(SpaceAmpersands(FixSectionCodes(DollarsAsS(text))));
  std::string mended = MapWords(spaced, [&spaced](const std::string& w, size_t end) {
    std::string word = w;
    int upper = 0, lower = 0;
    for (char c : word) {
      upper += std::isupper(static_cast<unsigned char>(c)) && c != 'I';
      lower += std::islower(static_cast<unsigned char>(c)) && c != 'l';
    }
    // An I among lower-case letters is an l ("Jln" read "JIn"), an l among
    // capitals an I ("MASAl"); a zero between two letters an O ("L0T":
    // codes such as "U13" or "PJU6A" have no digit between letters).
    for (size_t c = 0; c < word.size(); ++c) {
      if (word[c] == 'I' && c > 0 && lower >= 1 && upper <= 1) word[c] = 'l';
      if (word[c] == 'l' && upper >= 2 && lower == 0) word[c] = 'I';
      if (word[c] == '0' && c > 0 && c + 1 < word.size() &&
          std::isalpha(static_cast<unsigned char>(word[c - 1])) &&
          std::isalpha(static_cast<unsigned char>(word[c + 1])))
        word[c] = std::islower(static_cast<unsigned char>(word[c + 1])) ? 'o' : 'O';
    }
    size_t next = spaced.find_first_not_of(" ,", end);
    if (next != std::string::npos && next > end) {
      size_t next_end = next;
      while (next_end < spaced.size() && std::isalpha(static_cast<unsigned char>(spaced[next_end]))) ++next_end;
      std::string ordinal = FixOrdinal(word, spaced.substr(next, next_end - next));
      if (ordinal != word) return ordinal;
    }
    std::string up = ToUpper(word);
    if (word.size() < 5 || IsKnownWord(up)) return word;
    const char* fix = nullptr;
    int found = 0;
    for (const char* k : kFixableAddressWords) {
      std::string_view kv(k);
      if (kv.size() != up.size()) continue;
      int diff = 0;
      for (size_t c = 0; c < up.size() && diff < 2; ++c) diff += kv[c] != up[c];
      if (diff == 0) return word;
      if (diff == 1) fix = k, ++found;
    }
    if (found != 1) return word;
    return InCaseOf(word, fix);
  });
  return FixPlacePhrases(mended);
}

std::string RepairMoneyLabelWords(const std::string& text) {
  static const char* const kWords[] = {"TOTAL",   "CHANGE",    "ROUNDING",  "SUBTOTAL",  "AMOUNT",
                                       "PAYABLE", "INCLUSIVE", "EXCLUDING", "ADJUSTMENT"};
  // Real words one letter away from a label that must stay what they are:
  // a service CHARGE is a tax line, not change; MOUNT is in place names
  // that addresses print ("Jalan Mount Austin") and in goods ("wall
  // mount"); CHANCE is the word of lucky-draw lines ("1 chance with
  // every RM50 spent"). Read as AMOUNT or CHANGE they would make such a
  // line a money line.
  static const char* const kKeep[] = {"CHARGE", "CHARGES", "TOTALS", "AMOUNTS", "MOUNT", "CHANCE"};
  auto near_label = [](const std::string& up) {
    for (const char* k : kWords) {
      if (up.size() >= 4 && EditDistance(up, k) <= 1) return true;
    }
    return false;
  };
  // A label word split by a stray space ("Payal e", "TOT AL"): a fragment
  // of one or two letters joins its neighbour when together, and neither
  // alone, they are a label word or one letter off one.
  std::string joined = text;
  for (size_t i = 0; i < joined.size();) {
    if (!std::isalpha(static_cast<unsigned char>(joined[i])) ||
        (i > 0 && std::isalnum(static_cast<unsigned char>(joined[i - 1])))) {
      ++i;
      continue;
    }
    size_t a_end = i;
    while (a_end < joined.size() && std::isalpha(static_cast<unsigned char>(joined[a_end]))) ++a_end;
    size_t b = a_end + 1, b_end = b;
    while (b_end < joined.size() && std::isalpha(static_cast<unsigned char>(joined[b_end]))) ++b_end;
    bool pair = a_end < joined.size() && joined[a_end] == ' ' && b_end > b &&
                (b_end == joined.size() || !std::isalnum(static_cast<unsigned char>(joined[b_end])));
    if (pair && (a_end - i <= 2 || b_end - b <= 2)) {
      std::string wa = ToUpper(joined.substr(i, a_end - i)), wb = ToUpper(joined.substr(b, b_end - b));
      if (!near_label(wa) && !near_label(wb) && near_label(wa + wb)) {
        joined.erase(a_end, 1);
        continue;  // the joined word is looked at again from its start
      }
    }
    i = a_end;
  }
  // Two label words run together (paddle drops the spaces between
  // words: "TotalPayable", "GRANDTOTAL"): split where both parts are
  // words of money labels.
  static const std::set<std::string> kParts = {
      "TOTAL", "PAYABLE", "AMOUNT", "AMT",  "DUE",     "GRAND",   "NET",    "NETT", "ROUNDING",
      "ROUNDED", "ADJ",   "CHANGE", "CASH", "SUB",     "INCL",    "EXCL",   "GST",  "SST",
      "TAX",   "SERVICE", "CHARGE", "BALANCE", "QTY",  "RM",      "MYR",    "PAID", "TENDERED", "SUBTOTAL"};
  joined = MapWords(joined, [](const std::string& w, size_t) {
    std::string up = ToUpper(w);
    if (up.size() < 6 || kParts.count(up) ||
        !std::all_of(up.begin(), up.end(), [](unsigned char c) { return std::isalpha(c); }))
      return w;
    for (size_t cut = 2; cut + 2 <= up.size(); ++cut) {
      if (kParts.count(up.substr(0, cut)) && kParts.count(up.substr(cut))) return w.substr(0, cut) + " " + w.substr(cut);
    }
    return w;
  });
  return MapWords(joined, [](const std::string& w, size_t) {
    std::string up = ToUpper(w), fixed = w;
    bool keep = false;
    for (const char* k : kKeep) keep |= up == k;
    for (const char* k : kWords) {
      if (!keep && up.size() >= 5 && up != k && EditDistance(up, k) <= 1) fixed = k;
    }
    // "Grand Tota." : TOTAL with a letter lost (no English or Malay word).
    if (up == "TOTA" || up == "TOTL" || up == "TTAL" || up == "TOAL") fixed = "TOTAL";
    return fixed;
  });
}

// --- provider name and address ---

// A line that is one to three words of label, maybe "No" or "#" and a
// colon, then one number (with a registration letter): an id, not an
// address line, unless the words are address words ("LOT 2685").
bool IsLabelledNumber(const std::string& line) {
  static const std::regex kLabelled(
      R"(^\W*([A-Za-z]{2,}\.?(?:\s+[A-Za-z]{2,}\.?){0,2})\s*(?:#|\b[Nn][Oo]\b\.?)?\s*[:.;]?\s*\(?\d{3,14}(?:\s*-\s*[A-Za-z])?\)?\W*$)");
  std::smatch m;
  try {
    if (!std::regex_match(line, m, kLabelled)) return false;
  } catch (const std::exception&) {
    return false;
  }
  std::string words = NormalizeForMatch(m[1].str());
  // "No" is a label word here ("Company No"), not the "No." of an address.
  if (words == "NO") return false;
  if (words.size() > 3 && words.compare(words.size() - 3, 3, " NO") == 0)
    words.resize(words.size() - 3);
  return !HasAny(words, kAddressWords) && !HasAny(words, kStates);
}

bool StartsLikeAddress(const std::string& line);

// True if one of the lines holds an address word or a state.
bool ReadsLikeAddress(const std::vector<std::string>& parts) {
  return std::any_of(parts.begin(), parts.end(), [](const std::string& p) {
    return HasAny(ToUpper(p), kAddressWords) || HasAny(ToUpper(p), kStates);
  });
}

// The address block that starts at or after line `from` (before `to`),
// skipping registration lines, up to and including the postcode line and
// the town and state lines that may follow it.
std::optional<Field> AddressFrom(const std::vector<Line>& lines, size_t from, size_t to) {
  std::vector<std::string> parts;
  Field evidence;  // the pages of the lines taken
  bool postcode = false;
  double conf_sum = 0;
  for (size_t i = from; i < lines.size() && i < to; ++i) {
    const std::string& t = lines[i].text;
    std::string up = ToUpper(t);
    if (IsRegistrationLine(t) && !HasPostcode(t)) {
      // A line above the company's registration that has nothing of an
      // address ("Bentong 2", a branch) is no part of the one below it.
      if (!postcode && !ReadsLikeAddress(parts)) parts.clear(), conf_sum = 0, evidence = Field{};
      continue;
    }
    // A date or money ends the header; a number in an address line that
    // looks like money ("Lot 38. 39 101 Boulevard") does not.
    const bool addressy_line = HasAny(up, kAddressWords) || HasPostcode(t);
    if (!FindDates(t, Date{2000, 1, 1}, Date{2100, 1, 1}).empty()) break;
    if (!FindAmounts(t).empty() && !addressy_line) break;
    // A | at either end of a line is the edge of a box or of the paper.
    std::string cut = CutAtContact(t);
    const bool contact_ended = cut.size() < t.size();
    while (!cut.empty() && (cut.front() == '|' || cut.front() == ' ')) cut.erase(cut.begin());
    while (!cut.empty() && (cut.back() == '|' || cut.back() == ' ')) cut.pop_back();
    if (cut.empty()) {
      if (parts.empty()) continue;
      break;
    }
    if (postcode) {
      // After the postcode line only the state (or, when the postcode ended
      // the line, the town and state) may follow; or a town on its own
      // line with the state on the next ("CAMERON HIGHLANDS," "PAHANG").
      bool town = PostcodeAtEnd(parts.back()) && cut.size() <= 40 && !HasAny(up, kContactLabels) &&
                  CountDigits(cut) == 0;
      bool town_then_state = !town && cut.size() <= 40 && CountDigits(cut) == 0 &&
                             !HasAny(up, kContactLabels) && !IsStateLine(cut) &&
                             i + 1 < lines.size() && i + 1 < to &&
                             IsStateLine(CutAtContact(lines[i + 1].text));
      if (town_then_state) {
        parts.push_back(cut);
        conf_sum += lines[i].confidence;
        evidence.AddPage(lines[i].page + 1);
        continue;
      }
      if (IsStateLine(cut) || town) {
        parts.push_back(cut);
        conf_sum += lines[i].confidence;
        evidence.AddPage(lines[i].page + 1);
      }
      break;
    }
    if (IsTitle(t)) break;
    // "Conpany No 002643278-A", "OST REF NO : 001694261248", "Site: 1046":
    // a label (however misread) and a number, before the address starts.
    if (parts.empty() && IsLabelledNumber(cut)) continue;
    // The address starts with a number or an address word; plain words
    // before it are the rest of the name or a branch ("ELECTRICAL").
    if (parts.empty() && CountDigits(cut) == 0 && !HasAny(ToUpper(cut), kAddressWords) &&
        !IsStateLine(cut)) {
      continue;
    }
    // A line without a number that only names a place ("SUSHI MENTAI PLAZA
    // DANAU", a branch), then one that starts like an address with a
    // number: the address starts at the second.
    if (parts.size() == 1 && CountDigits(parts[0]) == 0 && !StartsLikeAddress(parts[0]) &&
        StartsLikeAddress(cut) && CountDigits(cut) > 0) {
      parts.clear(), conf_sum = 0, evidence = Field{};
    }
    parts.push_back(cut);
    conf_sum += lines[i].confidence;
    evidence.AddPage(lines[i].page + 1);
    if (HasPostcode(cut)) postcode = true;
    if (contact_ended) break;  // a contact label ended the line
  }
  if (parts.empty()) return std::nullopt;
  if (!postcode) {
    // Without a postcode keep only lines that read like an address.
    if (!ReadsLikeAddress(parts)) return std::nullopt;
  }
  std::string addr;
  for (const auto& p : parts) {
    if (!addr.empty()) addr += ' ';
    addr += p;
  }
  double c = (postcode ? 0.85 : 0.5) * std::min(1.0, conf_sum / parts.size() + 0.15);
  return Field{TidyAddressWords(CollapseSpaces(addr)), c, "ocr", evidence.pages};
}

// "12, Jalan ...", "LOT PTD 101051", "Jalan Permas 10/10": a digit or an
// address word first.
bool StartsLikeAddress(const std::string& line) {
  std::string t = Trim(line);
  if (t.empty()) return false;
  if (std::isdigit(static_cast<unsigned char>(t[0]))) return true;
  return HasAny(ToUpper(t.substr(0, t.find_first_of(" ,.:"))), kAddressWords);
}

// An address printed above the name: the block of lines ending in a
// postcode line just before it. Only a block with a postcode counts (the
// lines above a name are also logos and titles), and its confidence is
// lower than that of an address in the usual place.
std::optional<Field> AddressBefore(const std::vector<Line>& lines, int name_at) {
  int post = -1;
  for (int i = name_at - 1; i >= 0 && i >= name_at - 3; --i) {
    if (HasPostcode(lines[i].text) &&
        FindDates(lines[i].text, Date{2000, 1, 1}, Date{2100, 1, 1}).empty()) {
      post = i;
      break;
    }
  }
  if (post < 0) return std::nullopt;
  int start = post;
  while (start > 0 && start > post - 3 && !IsTitle(lines[start - 1].text) &&
         StartsLikeAddress(lines[start - 1].text) && !IsRegistrationLine(lines[start - 1].text)) {
    --start;
  }
  std::optional<Field> f =
      AddressFrom(lines, static_cast<size_t>(start), static_cast<size_t>(post) + 1);
  if (f) f->confidence = std::min(f->confidence, 0.75);
  return f;
}

bool EndsHeader(const std::string& t) {
  return !FindAmounts(t).empty() || HasLabel(t, "DATE") || HasLabel(t, "CASHIER") ||
         HasLabel(t, "INVOICE NO") || HasLabel(t, "RECEIPT NO") || HasLabel(t, "DOC NO");
}

void ExtractHeader(const std::vector<Line>& lines, ReceiptFields& r) {
  // The header is what comes before the first line that has a date, a
  // money amount or a receipt-number label; at most the first 15 lines.
  size_t end = std::min<size_t>(lines.size(), kHeaderMaxLines);
  for (size_t i = 0; i < end; ++i) {
    if (EndsHeader(lines[i].text)) {
      end = i;
      break;
    }
  }
  if (end == 0) end = std::min<size_t>(lines.size(), 8);
  int name_at = -1;
  // A line with a company mark wins among the first few name-like lines.
  int seen = 0;
  for (size_t i = 0; i < end && seen < 6; ++i) {
    if (!LooksLikeNameLine(lines[i])) continue;
    ++seen;
    std::string up = ToUpper(lines[i].text);
    if (HasAny(up, kCompanyMarks) && !HasPostcode(up)) {
      name_at = static_cast<int>(i);
      break;
    }
  }
  double name_conf = 0.85;
  if (name_at < 0) {
    for (size_t i = 0; i < end; ++i) {
      if (LooksLikeNameLine(lines[i]) && !HasPostcode(lines[i].text) &&
          !HasAny(ToUpper(lines[i].text), kAddressWords)) {
        name_at = static_cast<int>(i);
        name_conf = 0.6;
        break;
      }
    }
  }
  if (name_at < 0) return;
  std::string name = CleanName(lines[name_at].text);
  double line_conf = lines[name_at].confidence;
  int name_first = name_at;  // the name's first line, when it runs over two
  // Names broken over two lines: "POPULAR BOOK" / "CO. (M) SDN BHD".
  const std::string raw_name = Trim(lines[name_at].text);
  if (name_at + 1 < static_cast<int>(lines.size()) && !raw_name.empty() && raw_name.back() == '&' &&
      LooksLikeNameLine(lines[name_at + 1]) && CountDigits(lines[name_at + 1].text) == 0 &&
      !HasAny(ToUpper(lines[name_at + 1].text), kAddressWords)) {
    // "HOME MASTER HARDWARE &" / "ELECTRICAL".
    name = CleanName(raw_name + " " + lines[name_at + 1].text);
    ++name_at;
  } else if (name_at + 1 < static_cast<int>(lines.size()) &&
             IsSuffixOnly(lines[name_at + 1].text) && !IsSuffixOnly(lines[name_at].text)) {
    name = CleanName(name + " " + lines[name_at + 1].text);
    ++name_at;
  } else if (IsSuffixOnly(lines[name_at].text) && name_at > 0 &&
             LooksLikeNameLine(lines[name_at - 1])) {
    name = CleanName(lines[name_at - 1].text + " " + name);
    name_first = name_at - 1;
  } else if (name_at > 0 && StartsWithGenericWord(name) && LooksLikeNameLine(lines[name_at - 1]) &&
             CountDigits(lines[name_at - 1].text) == 0 && !IsTitle(lines[name_at - 1].text) &&
             lines[name_at - 1].confidence >= 0.75 &&
             lines[name_at - 1].text.find(':') == std::string::npos &&
             !HasAny(ToUpper(lines[name_at - 1].text), kCompanyMarks) &&
             !HasAny(ToUpper(lines[name_at - 1].text), kAddressWords)) {
    // "LIAN CHI PU TIAN VEGETARIAN" / "RESTAURANT SDN BHD": a name line
    // that starts with a kind of business or a branch in brackets goes on
    // from the line above.
    name = CleanName(lines[name_at - 1].text + " " + name);
    name_first = name_at - 1;
  }
  r.provider_name = {name, name_conf * std::min(1.0, line_conf + 0.15), "ocr"};
  for (int i = name_first; i <= name_at; ++i) r.provider_name.AddPage(lines[i].page + 1);

  // Address: the lines after the name, up to and including the postcode
  // line. Some receipts (petrol stations) print the site's address above
  // the company's name: looked for there when none follows the name.
  std::optional<Field> addr = AddressFrom(lines, name_at + 1, static_cast<size_t>(name_at) + 9);
  if (!addr) addr = AddressBefore(lines, name_at);
  if (addr) r.provider_address = *addr;
}

// --- receipt number ---

namespace {

// The receipt number in the text after its label: the first token of
// letters/digits/-/ that has a digit, after separators and a little OCR junk
// (";", "+", a stray symbol); none when it is a date.
std::optional<std::string> NumberAfter(const std::string& rest) {
  std::string clean;
  for (unsigned char ch : rest) clean += ch < 0x80 ? static_cast<char>(ch) : ' ';
  // "$" inside a number is an S ("C$1801/26874").
  static const std::regex kDollarS(R"(([A-Za-z0-9])\$(?=[A-Za-z0-9]))");
  clean = std::regex_replace(clean, kDollarS, "$1S");
  // OCR often spaces out the dashes of a number ("KS - 2026 -008812"):
  // a - or / between two letters or digits binds them again.
  static const std::regex kSpacedJoin(R"(([A-Za-z0-9])\s*([\-/])\s*(?=[A-Za-z0-9]))");
  clean = std::regex_replace(clean, kSpacedJoin, "$1$2");
  // Skips separators, a little junk and a stray one- or two-letter
  // token ("INVOICE NO z 18299/162"), or joins a letter prefix spaced
  // off its number ("CS 47832").
  static const std::regex kTok(
      R"(^\s*(?:(?:[:;,#.+=|\-~_'"`*$]|[^A-Za-z0-9\s])\s*){0,6}(?:N[Oo0][.:sS]?\s*[:#.]?\s*)?(?:[A-Za-z]{1,2}\s+(?=\d{3}))?([A-Za-z0-9][A-Za-z0-9\-/]{2,24}))");
  static const std::regex kPrefixed(R"(^[\s:;,#.+=|\-~_'"`*$]*([A-Z]{1,3})\s+(\d{3,}[A-Za-z0-9\-/]*))");
  std::smatch m;
  std::string v;
  if (std::regex_search(clean, m, kPrefixed)) {
    v = m[1].str() + m[2].str();
  } else if (std::regex_search(clean, m, kTok)) {
    v = m[1].str();
  } else {
    return std::nullopt;
  }
  while (!v.empty() && (v.back() == '-' || v.back() == '/')) v.pop_back();
  if (CountDigits(v) < 2 || v.size() < 3) return std::nullopt;
  // Not a date or time that happens to follow the label.
  if (!FindDates(v, Date{1990, 1, 1}, Date{2100, 1, 1}).empty()) return std::nullopt;
  return v;
}

// The transaction number a till prints unlabelled at the end of the line
// with the sale's date and a time of day (see ExtractReceiptNumber).
std::optional<std::string> TillNumber(const std::string& line) {
  static const std::regex kTime(R"((?:^|[^0-9])([01]?\d|2[0-3])[:.][0-5]\d(?:[:.][0-5]\d)?(?![0-9]))");
  static const std::regex kLast(R"((?:^|\s)([A-Z])([0-9O]{6,12})\W*$)");
  std::smatch m;
  if (!std::regex_search(line, m, kLast)) return std::nullopt;
  std::string digits = m[2].str();
  if (std::count(digits.begin(), digits.end(), 'O') > 2) return std::nullopt;
  std::replace(digits.begin(), digits.end(), 'O', '0');
  const std::string head = line.substr(0, static_cast<size_t>(m.position(0)));
  if (FindDates(head, Date{1990, 1, 1}, Date{2100, 1, 1}).empty() || !std::regex_search(head, kTime))
    return std::nullopt;
  return m[1].str() + digits;
}

}  // namespace

std::string AlnumUpper(const std::string& v) {
  std::string n;
  for (unsigned char c : v) {
    if (std::isalnum(c)) n += static_cast<char>(std::toupper(c));
  }
  return n;
}

std::optional<std::string> SameNumberButPrefix(const std::string& a, const std::string& b) {
  auto alnum = [](const std::string& v) {
    std::string n;
    for (unsigned char c : v) {
      if (std::isalnum(c)) n += static_cast<char>(c);
    }
    return n;
  };
  const std::string x = alnum(a), y = alnum(b);
  if (AlnumUpper(x) == AlnumUpper(y)) return a;
  const bool a_longer = x.size() > y.size();
  const std::string& longer = a_longer ? x : y;
  const std::string& shorter = a_longer ? y : x;
  const size_t extra = longer.size() - shorter.size();
  if (shorter.empty() || AlnumUpper(longer.substr(extra)) != AlnumUpper(shorter)) return std::nullopt;
  auto all = [&](bool upper) {
    return std::all_of(longer.begin(), longer.begin() + static_cast<long>(extra), [upper](unsigned char c) {
      return upper ? std::isupper(c) != 0 : std::islower(c) != 0;
    });
  };
  if (all(true)) return a_longer ? a : b;
  if (all(false)) return a_longer ? b : a;
  return std::nullopt;
}

std::optional<std::string> NumberWithoutLetterPrefix(const std::string& number) {
  size_t i = 0;
  while (i < number.size() && std::isupper(static_cast<unsigned char>(number[i]))) ++i;
  if (i == 0 || i > 3) return std::nullopt;
  const std::string rest = number.substr(i);
  const std::string key = AlnumUpper(rest);
  const auto digits = std::count_if(key.begin(), key.end(), [](unsigned char c) { return std::isdigit(c); });
  if (key.size() < 6 || digits * 4 < static_cast<long>(key.size()) * 3) return std::nullopt;
  return rest;
}

void ExtractReceiptNumber(const std::vector<Line>& lines, ReceiptFields& r) {
  // The labels receipts print for their number, English and Malay, most
  // specific first. A weak label (a reference, a serial number, a bare BIL,
  // which in Malay also heads an item-count column) may name another number
  // than the receipt's: a value after it is kept below the submit
  // threshold, and only from its own line.
  struct Label {
    const char* text;
    bool weak;
  };
  // clang-format off
  static const Label kLabels[] = {
      {"INVOICE NO", false}, {"INVOICE NUMBER", false}, {"INV NO", false}, {"INV", false},
      {"INVOICE", false}, {"TAX INVOICE NO", false}, {"NO INVOIS", false}, {"INVOIS NO", false},
      {"NOMBOR INVOIS", false}, {"INVOIS", false},
      {"RECEIPT NO", false}, {"RECEIPT NUMBER", false}, {"RECEIPT", false}, {"RCPT NO", false},
      {"RCPT", false}, {"NO RESIT", false}, {"RESIT NO", false}, {"NOMBOR RESIT", false},
      {"RESIT", false}, {"BILL NO", false}, {"BILL", false}, {"NO BIL", false}, {"BIL NO", false},
      {"DOC NO", false}, {"DOCUMENT NO", false}, {"DOCUMENT", false}, {"TRANS NO", false},
      {"TRANSACTION NO", false}, {"TRN NO", false}, {"SLIP NO", false}, {"CHECK NO", false},
      {"CHK NO", false}, {"CASH BILL NO", false}, {"CB NO", false}, {"CB", false},
      {"CASH SALE NO", false}, {"CASH SALES NO", false}, {"CASH SALE", false}, {"CS NO", false},
      {"CS", false}, {"SALES NO", false}, {"ORDER NO", false}, {"TICKET NO", false},
      {"TICKET", false}, {"TXN NO", false}, {"DOC", false}, {"CHECK", false}, {"CHK", false},
      {"ORDER", false}, {"ORD", false}, {"TRANS", false}, {"TXN", false},
      {"REF NO", true}, {"REFERENCE NO", true}, {"SERIAL NO", true}, {"BIL", true}};
  // clang-format on
  // Earlier labels are more specific.
  int best_rank = 1000;
  std::string best;
  double best_conf = 0;
  Field best_evidence;  // the pages of its label's line and its value's
  std::string best_note;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string t = RepairLabelWords(lines[i].text);
    // Registration, tax and telephone numbers are not receipt numbers.
    std::string up = ToUpper(t);
    static const std::regex kBareReg(R"(^\W*\d{5,12}\s*-?\s*[A-Za-z]\W*$)");
    if (std::regex_match(t, kBareReg) || HasLabel(up, "GST") || HasLabel(up, "SST") || HasLabel(up, "TEL") ||
        HasLabel(up, "FAX") || HasLabel(up, "REG") || HasLabel(up, "PHONE")) {
      continue;
    }
    for (int rank = 0; rank < static_cast<int>(std::size(kLabels)); ++rank) {
      if (rank >= best_rank) break;
      const Label& label = kLabels[rank];
      size_t e = FindLabelEnd(t, label.text);
      if (e == std::string::npos) continue;
      std::string rest = t.substr(e);
      const bool next_line = Trim(rest).empty();
      const bool value_below = next_line && i + 1 < lines.size();
      if (next_line) {
        if (label.weak || !value_below) continue;
        rest = lines[i + 1].text;
      }
      std::optional<std::string> v = NumberAfter(rest);
      if (!v) continue;
      best_rank = rank;
      best = *v;
      best_note.clear();
      best_evidence = Field{};
      best_evidence.AddPage(lines[i].page + 1);
      if (value_below) best_evidence.AddPage(lines[i + 1].page + 1);
      // A specific label is strong evidence; the number's own reading is
      // what can still be off (the clerk sees it next to the image).
      // The number's own words, when they can be found in the line: a label
      // misread around a clear number ("INV# 002511900048269") is no reason
      // to doubt the number; a number OCR could hardly read is.
      const Line& from = next_line ? lines[i + 1] : lines[i];
      const size_t at = from.text.find(best);
      const double words = at != std::string::npos ? from.ConfidenceOf(at, at + best.size()) : from.confidence;
      best_conf = std::max(from.confidence, words) >= 0.6 && words >= 0.4 ? 0.95 : 0.8;
      // The line read a second time (ocr.reread_lines) giving another
      // number after the same label: the clerk settles it.
      if (!next_line && !from.alt.empty()) {
        const std::string alt = RepairLabelWords(from.alt);
        size_t ae = FindLabelEnd(alt, label.text);
        std::optional<std::string> av = ae != std::string::npos ? NumberAfter(alt.substr(ae)) : std::nullopt;
        // Readings that differ only by letters in front of one of them
        // agree (SameNumberButPrefix says which to keep).
        std::optional<std::string> kept = av ? SameNumberButPrefix(best, *av) : best;
        if (kept) {
          best = *kept;
        } else {
          best_conf = std::min(best_conf, 0.8);
          best_note = "the receipt number reads " + best + " or " + *av;
        }
      }
      if (label.weak) best_conf = std::min(best_conf, 0.85);
      break;
    }
  }
  if (best.empty()) {
    // No labelled number: many tills print their transaction number
    // unlabelled at the end of the line that holds the sale's date and
    // time ("28-03-18 18:05 SH01 ZJ42 T2 R000246362"). Its last token, a
    // capital letter and 6 to 12 digits (an O among them a 0), is the
    // number; kept below the submit threshold, so that one engine's
    // reading alone goes to a clerk and two that agree go on.
    for (size_t i = 0; i < lines.size() && best.empty(); ++i) {
      if (std::optional<std::string> v = TillNumber(lines[i].text)) {
        best = *v;
        best_conf = 0.8;
        best_evidence.AddPage(lines[i].page + 1);
      }
    }
  }
  if (!best.empty()) r.receipt_number = {best, best_conf, "ocr", best_evidence.pages};
  if (!best_note.empty()) r.problems.push_back(best_note);
}

}  // namespace internal

}  // namespace ncbocr
