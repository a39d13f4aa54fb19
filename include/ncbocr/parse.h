// Parse: the low-level readers of receipt and email text -- money amounts,
// calendar dates, label matching and text normalisation.
//
// They are written for Malaysian receipts as OCR sees them: "RM 1,234.50",
// "RM1234.5", "1,234.50 MYR", day-first dates in numeric, English and Malay
// forms ("25/12/2018", "25-12-18", "25 Dec 2018", "5 Ogos 2019"), and the
// usual OCR confusions inside numbers (O for 0, l or I for 1, stray spaces
// around the decimal point). Each function is pure and total: it returns
// nullopt or an empty list instead of failing, so extraction can try many
// readings and keep the ones that hold together.
#ifndef NCBOCR_PARSE_H_
#define NCBOCR_PARSE_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ncbocr {

// --- money ---

// An amount in sen (hundredths of a ringgit), so sums are exact.
using Cents = long long;

// "1234.50"; negative amounts keep their sign.
std::string FormatCents(Cents c);

// Parses one amount such as "RM 1,234.50", "1234.5", "-3.00", "1,234.50 MYR".
// The whole string must be the amount (with optional currency and spaces).
std::optional<Cents> ParseAmount(std::string_view s);

struct AmountToken {
  Cents cents = 0;
  size_t begin = 0, end = 0;  // byte range in the line
  bool has_decimals = false;  // written with a decimal part ("9.00", not "9")
  bool has_currency = false;  // RM / MYR next to it
  bool negative = false;
};

// Every amount in a line, left to right. Only numbers written with two
// decimals (or a currency sign) count, so quantities, dates, phone numbers and
// codes are not taken for money.
std::vector<AmountToken> FindAmounts(std::string_view line);

// --- dates ---

struct Date {
  int year = 0, month = 0, day = 0;
  std::string Iso() const;  // "2018-12-25"
  bool operator==(const Date&) const = default;
  auto operator<=>(const Date&) const = default;
};

// The calendar date at t in the machine's time zone ("today" for a claim).
Date LocalDateOf(std::chrono::system_clock::time_point t);

// True if y-m-d exists in the Gregorian calendar.
bool IsValidDate(int y, int m, int d);

// Month number for an English or Malay month name or abbreviation
// ("Dec", "December", "Dis", "Disember", "Mac", "Ogos"); 0 if none.
int MonthFromName(std::string_view name);

struct DateToken {
  Date date;
  size_t begin = 0, end = 0;
  bool numeric = true;  // all digits (vs with a month name)
};

// Every plausible date in a line. Numeric dates are read day first (the
// Malaysian convention); "2018-12-25" style is read year first. Impossible
// dates are dropped, and so are dates after `latest` or before `earliest`.
std::vector<DateToken> FindDates(std::string_view line, const Date& earliest, const Date& latest);

// A last resort for the text after a date label that OCR broke up ("02~
// "04 2018", "04/0 4/2017"): the digit runs before a four-digit year, read
// as day and month whatever lies between them. At most one date.
std::vector<DateToken> FindDatesLeniently(std::string_view line, const Date& earliest,
                                          const Date& latest);

// Day-first dates with a four-digit year that is out of range, read as the
// most recent in-range year one digit away ("20/03/2048" -> 2018-03-20).
// For OCR slips; callers should trust such a date less.
std::vector<DateToken> FindDatesRepairingYear(std::string_view line, const Date& earliest, const Date& latest);

// Parses a whole string as one date (day first), with no range check.
std::optional<Date> ParseDate(std::string_view s);

// Today's date in local time.
Date Today();

// --- text ---

// Upper-cases ASCII, folds every run of characters other than A-Z, 0-9 and
// '&' into one space, trims. The comparison used by `ncbocr eval`.
std::string NormalizeForMatch(std::string_view s);

// ASCII upper-case copy.
std::string ToUpper(std::string_view s);

// Collapses runs of whitespace into one space and trims.
std::string CollapseSpaces(std::string_view s);

// True if `label` occurs in `text` as whole words, ignoring case and
// tolerating extra spaces/punctuation between words ("SUB-TOTAL" matches
// "sub total"). The label is given in upper case with single spaces.
bool HasLabel(std::string_view text, std::string_view label);

// Position just after the first match of label (as HasLabel), or npos.
size_t FindLabelEnd(std::string_view text, std::string_view label);

}  // namespace ncbocr

#endif  // NCBOCR_PARSE_H_
