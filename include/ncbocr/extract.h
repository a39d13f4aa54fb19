// Extract: claim fields from a receipt's OCR text and the claim email, with a
// confidence for each, and the routing decision (submit or review).
//
// Receipt fields come from rules that read receipts the way a clerk does:
// the header block gives the provider's name and address (up to the postcode
// and state), labelled lines give the receipt number and the date, and the
// money lines give total, subtotal, tax, rounding, cash and change. The
// receipt's own arithmetic is the main evidence for the total: items summing
// to the subtotal, subtotal + tax + rounding = total, cash - change = total.
// Agreement raises a field's confidence; disagreement lowers it and leaves a
// reason. No names or addresses of particular providers are built in: the
// vocabulary is generic (state names, "SDN BHD", label words, month names).
//
// Member fields (member id, name, policy number) come from the email, in
// English, Malay or Chinese mixed with English. Values the member typed in
// the email (amount, date, provider) are compared with the receipt.
//
// Routing: a claim is submitted only when every field NCB requires is present
// and the overall confidence reaches ExtractConfig::high_confidence_threshold;
// a configurable share of those is still sampled for review, chosen by a hash
// of the claim id so the choice is reproducible.
#ifndef NCBOCR_EXTRACT_H_
#define NCBOCR_EXTRACT_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/config.h"
#include "ncbocr/email.h"
#include "ncbocr/ocr.h"
#include "ncbocr/parse.h"
#include "ncbocr/status.h"

namespace ncbocr {

struct Field {
  Field() = default;
  Field(std::string v, double c, std::string s, std::vector<int> p = {})
      : value(std::move(v)), confidence(c), source(std::move(s)), pages(std::move(p)) {}

  std::string value;        // empty: not found
  double confidence = 0;    // 0..1
  std::string source;       // "ocr", "email" or "both"
  // The evidence: pages (1-based, sorted, each once) of the receipt lines
  // the value was read from; empty for a value from the email alone. All
  // of one receipt's pages, by segment.h's split.
  std::vector<int> pages;
  bool present() const { return !value.empty(); }
  // Records a line of page (1-based) as evidence.
  void AddPage(int page);
};

struct ItemCharge {
  std::string description;
  std::string amount;       // decimal string, 2 places
};

// What the receipt alone says.
struct ReceiptFields {
  Field provider_name, provider_address, service_date, receipt_number;
  Field total_amount, currency, sst_amount, gst_amount;
  std::optional<Cents> subtotal, rounding, cash, change, tax;
  std::vector<ItemCharge> items;
  std::vector<std::string> notes;     // arithmetic checks, for the clerk
  std::vector<std::string> problems;  // what lowered confidence
  // What only a clerk can settle: two engines that each read a field
  // confidently and read it differently (FuseReceipts). Combine sends the
  // claim to review with these as reasons.
  std::vector<std::string> conflicts;
};

// What the email says.
struct EmailFields {
  Field member_id, member_name, policy_number;
  std::optional<Cents> total;          // an amount the member stated
  std::optional<Date> service_date;    // a visit/receipt date the member stated
  std::string provider;                // a clinic/hospital name the member stated
  // What sends the claim to a clerk (two different member ids, an id that
  // runs on into characters no id holds) and what only lowers confidence.
  std::vector<std::string> problems, remarks;
};

struct Extraction {
  std::map<std::string, Field> fields;  // the names of the JSON
  std::vector<ItemCharge> items;
  double confidence = 0;
  std::string decision;                 // "submit" or "review"
  std::vector<std::string> reasons;     // why review (a clerk can act on them)
  std::vector<std::string> notes;

  nlohmann::json ToJson() const;
};

struct ExtractOptions {
  Date today;                 // dates after it are impossible
  std::string claim_id;       // seeds the review sample
  // Treat member/policy as present (eval of receipts that have no email).
  bool assume_member_present = false;
  // Send service dates older than max_service_age_days to review (eval of
  // old dev receipts turns it off).
  bool check_service_age = true;
};

// Errors: none. Extraction is a pure function of its inputs and never fails:
// what cannot be read is an absent field, a lowered confidence and a reason
// a clerk can act on (Extraction::reasons), never an error or an exception.
// Time is linear in the size of the text.

// Reads the receipt fields from OCR output. today bounds plausible dates.
ReceiptFields ExtractReceipt(const OcrDocument& doc, const Date& today);

// The engines' names, as a clerk reads them in a reason.
struct FusionNames {
  std::string first = "tesseract", second = "paddle";
};

// Two engines' readings of one receipt (each from ExtractReceipt), settled
// field by field. `confident` is the submit threshold
// (ExtractConfig::high_confidence_threshold). For the total, the date and
// the receipt number:
//   - both read the same value: half the doubt left goes (confidence
//     max + 0.5 * (1 - max); the engines see the same pixels, so this is
//     less than two independent sources get);
//   - one read none: the other's value and confidence, with a note;
//   - they differ: for the total, the value more of the receipt's sums
//     arrive at (subtotal + tax + rounding, cash - change, the items, with
//     the figures of either reading) wins, then the surer one; for the date
//     and the number, the surer one. When both were read at `confident` or
//     more, the disagreement is a conflict (a clerk decides: "total:
//     tesseract read 12.40, paddle 12.90"); otherwise, unless the
//     arithmetic took a side, the winner's confidence is capped at 0.85 with
//     the disagreement as a problem.
// Name and address: agreement ignoring spaces and punctuation raises
// confidence as above, keeping the first reading's text (the second
// engine drops word spaces); two readings of one text that differ in at
// most a quarter of their characters merge letter by letter, with the
// first's word spaces and extent and mostly the second's letters (the
// rules: MergeReadings in src/extract/extract_internal.h); readings
// further apart leave the first's text; a value only the second read is
// taken. The other money figures follow the reading whose total won; the
// items are the first reading's unless it has none. Pure; time linear in
// the fields' size, but for the merge: the product of the name's (or
// address's) two lengths, each at most 400 characters.
ReceiptFields FuseReceipts(const ReceiptFields& first, const ReceiptFields& second, const FusionNames& names,
                           double confident);

// True when the reading leaves the total or the date missing or below
// `confident`: where ocr.second_reading "unsettled" runs the second engine.
bool ReceiptUnsettled(const ReceiptFields& r, double confident);

// ocr.second_reading "unsettled": true when ExtractReceipt of the first
// engine's reading is ReceiptUnsettled at config.high_confidence_threshold.
bool FirstReadingUnsettled(const OcrDocument& first, const ExtractConfig& config, const Date& today);

// The first reading's header lines on each page: those before the first
// line that carries an amount or a date, cashier or receipt-number label
// (at most the first 6 lines of a page), where the provider's name and
// address are.
std::vector<std::vector<int>> HeaderLines(const OcrDocument& first);

// The first line (page, index) of `doc` whose letters and digits hold
// those of `number` (case and O/0 aside); none for numbers of fewer than 5.
std::optional<std::pair<size_t, size_t>> NumberLine(const OcrDocument& doc, const std::string& number);

// What the second engine reads, for ocr.second_reading `mode`: "always",
// the whole file; "unsettled", the whole file where FirstReadingUnsettled,
// else nothing; "unsettled+header", the whole file where
// FirstReadingUnsettled, else its HeaderLines (the name and address, which
// the total and date do not settle) and, when the first reading's receipt
// number is below config.high_confidence_threshold, that number's line
// (NumberLine), for the second engine to confirm it. A whole reading in
// the two "unsettled" modes carries the first reading's lines
// (SecondReading::known): the second engine leaves unread the rows below a
// page's first 8 lines that the first read at 0.8 or more without a digit.
SecondReading SecondReadingFor(const OcrDocument& first, const std::string& mode, const ExtractConfig& config,
                               const Date& today);

// The engine factory config.ocr asks for (MakeOcrEngine), with
// SecondReadingFor (today: Today() at each call) deciding the second
// reading as config.ocr.second_reading says.
EngineFactory ConfiguredEngineFactory(const Config& config);

// ExtractReceipt of the document, fused with ExtractReceipt of its second
// engine's reading (OcrDocument::second) when it has one (of a reading of
// some lines only, scope "lines", just the name and address, and the
// receipt number where the second engine read it alike on its line); engine names
// are the first words of OcrDocument::engine.
ReceiptFields ExtractReceiptReadings(const OcrDocument& doc, const Date& today, double confident);

// Reads the member fields and stated values from the email: the Subject and
// body, own text before forwarded text before quoted text before signatures.
// A member id or policy number is a token of a shape in
// config.member_id_patterns / policy_number_patterns, taken after a label
// (English, Malay, Chinese) anywhere, or without one from the Subject and
// from short bodies. Time is linear in the email's size.
EmailFields ExtractEmail(const EmailInfo& email, const Date& today, const ExtractConfig& config = {});

// Merges receipt and email, scores, and routes.
Extraction Combine(const ReceiptFields& receipt, const std::optional<EmailFields>& email,
                   const ExtractConfig& config, const ExtractOptions& options);

// All of the above.
Extraction ExtractClaim(const OcrDocument& doc, const std::optional<EmailInfo>& email,
                        const ExtractConfig& config, const ExtractOptions& options);

// Deterministic value in [0, 1) from a claim id: the review sample takes
// claims whose value is below review_sample_rate.
double SampleValue(const std::string& claim_id);

}  // namespace ncbocr

#endif  // NCBOCR_EXTRACT_H_
