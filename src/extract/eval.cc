#include "ncbocr/eval.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "ncbocr/extract.h"
#include "ncbocr/parse.h"
#include "ncbocr/progress.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace fs = std::filesystem;
using Json = nlohmann::json;

bool SameText(const std::string& expected, const std::string& found) {
  return NormalizeForMatch(expected) == NormalizeForMatch(found);
}

bool SameDate(const std::string& expected, const std::string& found) {
  std::optional<Date> a = ParseDate(expected), b = ParseDate(found);
  return a && b && *a == *b;
}

bool SameAmount(const std::string& expected, const std::string& found) {
  std::optional<Cents> a = ParseAmount(expected), b = ParseAmount(found);
  return a && b && *a == *b;
}

bool SameNumber(const std::string& expected, const std::string& found) {
  auto norm = [](const std::string& v) {
    std::string n;
    for (unsigned char c : v) {
      if (std::isalnum(c)) n += static_cast<char>(std::toupper(c));
    }
    return n;
  };
  std::string a = norm(expected);
  return !a.empty() && a == norm(found);
}

std::string OcrSignature(const OcrConfig& config, const PreprocessOptions& options) {
  std::string langs;
  for (const auto& l : config.languages) langs += (langs.empty() ? "" : "+") + l;
  return "langs=" + langs + " psm=" + std::to_string(config.psm >= 0 ? config.psm : DefaultPsm()) +
         " pre=" + options.ToSpec() + " dpi=" + std::to_string(config.pdf_dpi) +
         (config.reread_lines ? " reread=1" : "") +
         (config.upside_down_min_confidence > 0
              ? " osdmin=" + std::to_string(config.upside_down_min_confidence).substr(0, 5) : "") +
         " gray=1" +
         // Tesseract's caches from before engines were configurable stay valid.
         (config.engine != "tesseract" ? " engine=" + config.engine : "");
}

namespace {

std::optional<OcrDocument> LoadCached(const fs::path& file, const std::string& signature) {
  Result<std::string> raw = ReadFile(file);
  if (!raw.ok()) return std::nullopt;
  try {
    Json j = Json::parse(*raw);
    if (j.value("signature", "") != signature) return std::nullopt;
    Result<OcrDocument> d = OcrDocument::FromJson(j["ocr"]);
    if (!d.ok()) return std::nullopt;
    return std::move(d).value();
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

std::string KeyString(const Json& k, const char* name) {
  if (!k.contains(name)) return "";
  if (k[name].is_string()) return k[name].get<std::string>();
  if (k[name].is_number()) return k[name].dump();
  return "";
}

}  // namespace

Result<EvalReport> RunEval(const EvalOptions& o, const Config& config, const EngineFactory& factory) {
  std::error_code ec;
  if (!fs::is_directory(o.images, ec)) return Status::Usage("--images: not a directory: " + o.images.string());
  if (!fs::is_directory(o.keys, ec)) return Status::Usage("--keys: not a directory: " + o.keys.string());
  if (!o.ocr_cache.empty()) {
    Status s = MakeDirs(o.ocr_cache);
    if (!s.ok()) return s;
  }
  // Receipts: every image that has a key.
  std::vector<fs::path> images;
  for (const auto& e : fs::directory_iterator(o.images, ec)) {
    if (!e.is_regular_file()) continue;
    if (fs::exists(o.keys / (e.path().stem().string() + ".json"))) images.push_back(e.path());
  }
  std::sort(images.begin(), images.end());
  if (o.limit > 0 && static_cast<int>(images.size()) > o.limit) images.resize(o.limit);
  if (images.empty()) return Status::Usage("no images with keys found");

  EvalReport rep;
  rep.has_holdout = !o.holdout.empty();
  rep.has_numbers = !o.receipt_numbers.empty();
  rep.show_holdout_misses = o.show_holdout_misses;
  const std::string sig = OcrSignature(config.ocr, o.preprocess);
  std::vector<std::optional<OcrDocument>> docs(images.size());
  std::vector<std::string> errors(images.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < images.size(); ++i) {
    if (!o.ocr_cache.empty()) docs[i] = LoadCached(o.ocr_cache / (images[i].stem().string() + ".json"), sig);
    if (docs[i]) rep.ocr_cached++;
    else todo.push_back(i);
  }
  if (!todo.empty()) {
    int workers = std::min<int>(ResolveWorkers(config.ocr.workers), static_cast<int>(todo.size()));
    Result<OcrPool> pool = OcrPool::Create(workers, factory);
    if (!pool.ok()) return pool.status();
    Progress bar("ocr", todo.size(), o.progress);
    pool->Run(todo.size(), [&](OcrEngine& engine, size_t k) {
      struct TickOnExit {
        Progress& p;
        ~TickOnExit() { p.Tick(); }
      } tick{bar};
      size_t i = todo[k];
      Result<OcrDocument> d = Status::Internal("not run");
      try {
        d = OcrFile(engine, images[i], config.ocr, o.preprocess);
      } catch (const std::exception& e) {
        d = Status::Permanent(images[i].string() + ": " + e.what());
      }
      if (!d.ok()) {
        errors[i] = d.status().message();
        return;
      }
      if (!o.ocr_cache.empty()) {
        Json j{{"signature", sig}, {"ocr", d->ToJson()}};
        AtomicWriteFile(o.ocr_cache / (images[i].stem().string() + ".json"), j.dump());
      }
      docs[i] = std::move(d).value();
    });
    rep.ocr_computed = static_cast<int>(todo.size());
  }

  ExtractConfig xc = config.extract;
  const Date today = Today();
  // The second engine's readings, where wanted.
  std::vector<std::optional<OcrDocument>> seconds(images.size());
  if (!o.second_engine.empty()) {
    rep.second_engine = o.second_engine;
    if (!o.second_ocr_cache.empty()) {
      Status s = MakeDirs(o.second_ocr_cache);
      if (!s.ok()) return s;
    }
    OcrConfig second_config = config.ocr;
    second_config.engine = o.second_engine;
    const std::string sig_whole = OcrSignature(second_config, o.preprocess);
    std::vector<SecondReading> want(images.size());
    auto cache_file = [&](size_t i) {
      const char* kind = !want[i].whole ? ".lines.json" : want[i].known.empty() ? ".json" : ".partial.json";
      return o.second_ocr_cache / (images[i].stem().string() + kind);
    };
    // A reading of lines depends on which lines and where: their boxes are in its signature.
    auto signature = [&](size_t i) {
      auto box = [](const OcrBox& b) {
        return std::to_string(b.x) + "," + std::to_string(b.y) + "," + std::to_string(b.w) + "," + std::to_string(b.h);
      };
      if (want[i].whole && want[i].known.empty()) return sig_whole;
      if (want[i].whole) {
        // A whole reading that leaves rows to the first: which rows.
        std::string known;
        for (size_t p = 0; p < want[i].known.size(); ++p) {
          const KnownPage& k = want[i].known[p];
          known += std::to_string(p) + ":" + std::to_string(k.width) + "x" + std::to_string(k.height) + "^" +
                   std::to_string(k.read_above);
          for (const auto& l : k.lines) known += (l.sure ? "+" : "-") + box(l.box) + ";";
        }
        return sig_whole + " scope=partial " + known;
      }
      std::string boxes;
      for (size_t p = 0; p < want[i].lines.size(); ++p) {
        for (int l : want[i].lines[p]) {
          boxes += std::to_string(p) + ":" + box(docs[i]->pages[p].lines[static_cast<size_t>(l)].box) + ";";
        }
      }
      return sig_whole + " scope=lines " + boxes;
    };
    std::vector<size_t> todo2;
    for (size_t i = 0; i < images.size(); ++i) {
      if (!docs[i]) continue;
      want[i] = SecondReadingFor(*docs[i], o.second_reading, xc, today);
      if (!want[i].any()) continue;
      if (!o.second_ocr_cache.empty()) seconds[i] = LoadCached(cache_file(i), signature(i));
      if (seconds[i]) rep.second_cached++;
      else todo2.push_back(i);
    }
    if (!todo2.empty()) {
      if (!o.second_factory) return Status::Usage("a second engine without a factory");
      int workers = std::min<int>(ResolveWorkers(config.ocr.workers), static_cast<int>(todo2.size()));
      Result<OcrPool> pool = OcrPool::Create(workers, o.second_factory);
      if (!pool.ok()) return pool.status();
      Progress bar("ocr " + o.second_engine, todo2.size(), o.progress);
      pool->Run(todo2.size(), [&](OcrEngine& engine, size_t k) {
        size_t i = todo2[k];
        Result<OcrDocument> d = Status::Internal("not run");
        try {
          engine.set_known_lines(want[i].known);
          d = want[i].whole ? OcrFile(engine, images[i], second_config, o.preprocess)
                            : ReadLinesAgain(engine, images[i], second_config, o.preprocess, *docs[i],
                                             want[i].lines);
          engine.set_known_lines({});
        } catch (const std::exception& e) {
          d = Status::Permanent(images[i].string() + ": " + e.what());
        }
        bar.Tick();
        if (!d.ok()) return;  // the first reading stands alone, as in the OCR stage
        if (!o.second_ocr_cache.empty()) {
          Json j{{"signature", signature(i)}, {"ocr", d->ToJson()}};
          AtomicWriteFile(cache_file(i), j.dump());
        }
        seconds[i] = std::move(d).value();
      });
      rep.second_computed = static_cast<int>(todo2.size());
    }
  }

  ExtractOptions xo;
  xo.today = today;
  xo.assume_member_present = true;
  xo.check_service_age = false;
  rep.routing_note =
      "routing on receipt fields only: member id/policy assumed present (the dev receipts have no "
      "email), service-age check off";
  for (size_t i = 0; i < images.size(); ++i) {
    EvalReceipt r;
    r.id = images[i].stem().string();
    Json key;
    try {
      key = Json::parse(ReadFile(o.keys / (r.id + ".json")).value());
    } catch (const std::exception& e) {
      return Status::Permanent("key " + r.id + ".json: " + e.what());
    }
    r.company.expected = KeyString(key, "company");
    r.date.expected = KeyString(key, "date");
    r.address.expected = KeyString(key, "address");
    r.total.expected = KeyString(key, "total");
    if (!docs[i]) {
      r.error = errors[i];
      r.decision = "review";
    } else {
      xo.claim_id = r.id;
      r.ocr_ms = docs[i]->total_ms;
      if (seconds[i]) {
        (seconds[i]->scope.empty() ? r.second_read : r.second_lines) = true;
        r.ocr_ms += seconds[i]->total_ms;
        docs[i]->second = {*seconds[i]};
      }
      Extraction x = ExtractClaim(*docs[i], std::nullopt, xc, xo);
      r.company.found = x.fields["provider_name"].value;
      r.address.found = x.fields["provider_address"].value;
      r.date.found = x.fields["service_date"].value;
      r.total.found = x.fields["total_amount"].value;
      r.decision = x.decision;
      r.confidence = x.confidence;
      r.reasons = x.reasons;
      r.number_found = x.fields["receipt_number"].value;
      r.number_confidence = x.fields["receipt_number"].confidence;
    }
    if (auto it = o.receipt_numbers.find(r.id); it != o.receipt_numbers.end()) {
      r.number_labelled = true;
      r.number_expected = it->second;
      rep.numbers.Add(r, xc.high_confidence_threshold);
    }
    r.company.correct = SameText(r.company.expected, r.company.found);
    r.address.correct = SameText(r.address.expected, r.address.found);
    r.date.correct = SameDate(r.date.expected, r.date.found);
    r.total.correct = SameAmount(r.total.expected, r.total.found);
    rep.n++;
    rep.second_read += r.second_read;
    rep.second_lines += r.second_lines;
    rep.ocr_ms += r.ocr_ms;
    rep.company += r.company.correct;
    rep.address += r.address.correct;
    rep.date += r.date.correct;
    rep.total += r.total.correct;
    if (r.decision == "submit") {
      rep.submitted++;
      if (!r.total.correct || !r.date.correct) rep.submitted_wrong++;
    }
    if (rep.has_holdout) {
      r.holdout = o.holdout.count(r.id) > 0;
      (r.holdout ? rep.holdout : rep.tuning).Add(r);
    }
    rep.receipts.push_back(std::move(r));
  }
  return rep;
}

namespace {

double Share(int a, int n) { return n ? static_cast<double>(a) / n : 0.0; }

Json FieldJson(const EvalField& f) { return {{"expected", f.expected}, {"found", f.found}, {"correct", f.correct}}; }

std::string ScoreLine(const char* name, const EvalScore& c) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%-9s %3d receipts: total %.3f, date %.3f, company %.3f, address %.3f; submit %.3f (%d), "
                "wrong among them %d; second engine read %d (and the header of %d); ocr %.2f s a receipt\n",
                name, c.n, Share(c.total, c.n), Share(c.date, c.n), Share(c.company, c.n), Share(c.address, c.n),
                Share(c.submitted, c.n), c.submitted, c.submitted_wrong, c.second_read, c.second_lines,
                c.n ? c.ocr_ms / 1000 / c.n : 0.0);
  return buf;
}

// A review reason with its numbers made N, so that receipts going to a
// clerk for the same reason count together ("confidence 0.80 is below the
// threshold 0.90" -> "confidence N is below the threshold N").
std::string ReasonKind(const std::string& reason) {
  std::string out;
  for (size_t i = 0; i < reason.size();) {
    if (!std::isdigit(static_cast<unsigned char>(reason[i]))) {
      out += reason[i++];
      continue;
    }
    while (i < reason.size() &&
           (std::isdigit(static_cast<unsigned char>(reason[i])) ||
            (std::strchr(".,:/-", reason[i]) && i + 1 < reason.size() &&
             std::isdigit(static_cast<unsigned char>(reason[i + 1])))))
      ++i;
    out += 'N';
  }
  return out;
}

// Why the receipts not sent on went to a clerk: each kind of reason with
// the number of receipts that gave it, most first (a receipt counts once per
// kind). The hold-out's only where its misses are shown.
std::vector<std::pair<std::string, int>> ReviewReasons(const std::vector<EvalReceipt>& receipts,
                                                       bool with_holdout) {
  std::map<std::string, int> count;
  for (const auto& r : receipts) {
    if (r.decision == "submit" || !r.error.empty() || (r.holdout && !with_holdout)) continue;
    std::set<std::string> kinds;
    for (const auto& reason : r.reasons) kinds.insert(ReasonKind(reason));
    for (const auto& k : kinds) ++count[k];
  }
  std::vector<std::pair<std::string, int>> out(count.begin(), count.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

constexpr size_t kReviewReasonsShown = 10;

}  // namespace

Result<std::set<std::string>> ReadHoldoutList(const fs::path& file) {
  Result<std::string> raw = ReadFile(file);
  if (!raw.ok()) return Status::Usage("--holdout: " + raw.status().message());
  std::set<std::string> stems;
  std::istringstream in(*raw);
  std::string line;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    stems.insert(line);
  }
  if (stems.empty()) return Status::Usage("--holdout: " + file.string() + " names no receipt");
  return stems;
}

Result<std::map<std::string, std::optional<std::string>>> ReadReceiptNumbers(const fs::path& file) {
  Result<std::string> raw = ReadFile(file);
  if (!raw.ok()) return Status::Usage("--receipt-numbers: " + raw.status().message());
  std::map<std::string, std::optional<std::string>> out;
  try {
    Json j = Json::parse(*raw);
    if (!j.is_object() || !j.contains("numbers") || !j["numbers"].is_object()) {
      return Status::Usage("--receipt-numbers: " + file.string() +
                           ": expected {\"numbers\": {STEM: NUMBER or null}}");
    }
    for (const auto& [stem, v] : j["numbers"].items()) {
      if (v.is_null()) {
        out[stem] = std::nullopt;
      } else if (v.is_string() && !Trim(v.get<std::string>()).empty()) {
        out[stem] = v.get<std::string>();
      } else {
        return Status::Usage("--receipt-numbers: " + file.string() + ": " + stem +
                             " must be a non-empty string or null");
      }
    }
  } catch (const Json::exception& e) {
    return Status::Usage("--receipt-numbers: " + file.string() + ": not JSON (" + e.what() + ")");
  }
  if (out.empty())
    return Status::Usage("--receipt-numbers: " + file.string() + " labels no receipt");
  return out;
}

void EvalNumberScore::Add(const EvalReceipt& r, double threshold) {
  labelled++;
  bool found_any = !r.number_found.empty();
  if (!r.number_expected) {
    found_where_none += found_any;
    return;
  }
  printed++;
  if (!found_any) return;
  found++;
  if (SameNumber(*r.number_expected, r.number_found)) {
    right++;
  } else {
    wrong++;
    wrong_confident += r.number_confidence >= threshold;
  }
}

Json EvalNumberScore::ToJson() const {
  return {{"labelled", labelled},
          {"printed", printed},
          {"found", found},
          {"right", right},
          {"wrong", wrong},
          {"wrong_confident", wrong_confident},
          {"found_where_none", found_where_none}};
}

std::string EvalNumberScore::ToText() const {
  char buf[320];
  std::snprintf(
      buf, sizeof buf,
      "receipt numbers: %d receipts labelled by hand, %d print one: found %d (%.3f), right %d "
      "(%.3f), wrong %d (%d of them confident); found where none is printed: %d\n",
      labelled, printed, found, Share(found, printed), right, Share(right, printed), wrong,
      wrong_confident, found_where_none);
  return buf;
}

void EvalScore::Add(const EvalReceipt& r) {
  n++;
  second_read += r.second_read;
  second_lines += r.second_lines;
  ocr_ms += r.ocr_ms;
  company += r.company.correct;
  address += r.address.correct;
  date += r.date.correct;
  total += r.total.correct;
  if (r.decision == "submit") {
    submitted++;
    if (!r.total.correct || !r.date.correct) submitted_wrong++;
  }
}

Json EvalScore::ToJson() const {
  return {{"receipts", n},
          {"accuracy", {{"company", Share(company, n)}, {"date", Share(date, n)},
                        {"address", Share(address, n)}, {"total", Share(total, n)}}},
          {"submitted", submitted},
          {"submit_share", Share(submitted, n)},
          {"submitted_wrong", submitted_wrong},
          {"second_read", second_read},
          {"second_header_lines", second_lines},
          {"ocr_seconds_per_receipt", n ? ocr_ms / 1000 / n : 0.0}};
}

Json EvalReport::ToJson() const {
  Json misses = Json::array();
  // Receipts a clerk would see though all four fields were read right: what
  // kept them back (the receipt number is not keyed, so it shows here).
  Json held_back = Json::array();
  for (const auto& r : receipts) {
    if (r.holdout && !show_holdout_misses) continue;
    if (r.company.correct && r.date.correct && r.address.correct && r.total.correct && r.error.empty()) {
      if (r.decision != "submit") {
        held_back.push_back({{"id", r.id}, {"decision", r.decision}, {"confidence", r.confidence},
                             {"receipt_number", r.number_found},
                             {"receipt_number_confidence", r.number_confidence}, {"reasons", r.reasons}});
      }
      continue;
    }
    Json m{{"id", r.id}, {"decision", r.decision}, {"confidence", r.confidence}};
    if (!r.error.empty()) m["error"] = r.error;
    if (!r.company.correct) m["company"] = FieldJson(r.company);
    if (!r.date.correct) m["date"] = FieldJson(r.date);
    if (!r.address.correct) m["address"] = FieldJson(r.address);
    if (!r.total.correct) m["total"] = FieldJson(r.total);
    if (r.decision != "submit") m["reasons"] = r.reasons;
    misses.push_back(std::move(m));
  }
  Json out{{"receipts", n},
           {"accuracy", {{"company", Share(company, n)}, {"date", Share(date, n)},
                         {"address", Share(address, n)}, {"total", Share(total, n)}}},
           {"submitted", submitted},
           {"submit_share", Share(submitted, n)},
           {"submitted_wrong", submitted_wrong},
           {"submitted_error_rate", Share(submitted_wrong, submitted)},
           {"routing", routing_note},
           {"ocr", {{"computed", ocr_computed}, {"cached", ocr_cached},
                    {"seconds_per_receipt", n ? ocr_ms / 1000 / n : 0.0}}},
           {"misses", std::move(misses)},
           {"held_back_correct", std::move(held_back)}};
  if (!second_engine.empty()) {
    out["second_engine"] = {{"engine", second_engine}, {"read", second_read}, {"header_lines", second_lines},
                            {"computed", second_computed}, {"cached", second_cached}};
  }
  if (has_numbers) {
    Json nm = Json::array();
    for (const auto& r : receipts) {
      if (!r.number_labelled || (r.holdout && !show_holdout_misses)) continue;
      bool ok = r.number_expected ? SameNumber(*r.number_expected, r.number_found)
                                  : r.number_found.empty();
      if (ok) continue;
      nm.push_back({{"id", r.id},
                    {"expected", r.number_expected ? Json(*r.number_expected) : Json(nullptr)},
                    {"found", r.number_found},
                    {"confidence", r.number_confidence}});
    }
    out["receipt_numbers"] = numbers.ToJson();
    out["receipt_number_misses"] = std::move(nm);
  }
  Json reasons = Json::array();
  for (const auto& [reason, receipts_with] : ReviewReasons(receipts, show_holdout_misses)) {
    reasons.push_back({{"reason", reason}, {"receipts", receipts_with}});
  }
  out["review_reasons"] = std::move(reasons);
  if (has_holdout) {
    out["tuning"] = tuning.ToJson();
    out["holdout"] = holdout.ToJson();
    out["holdout_misses_listed"] = show_holdout_misses;
  }
  return out;
}

std::string EvalReport::ToText() const {
  std::ostringstream s;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "receipts: %d (OCR computed %d, cached %d)\n"
                "total:    %.3f (%d)\ndate:     %.3f (%d)\ncompany:  %.3f (%d)\naddress:  %.3f (%d)\n",
                n, ocr_computed, ocr_cached, Share(total, n), total, Share(date, n), date, Share(company, n),
                company, Share(address, n), address);
  s << buf;
  std::snprintf(buf, sizeof buf, "submit:   %.3f (%d of %d); wrong total or date among them: %d (%.3f)\n",
                Share(submitted, n), submitted, n, submitted_wrong, Share(submitted_wrong, submitted));
  s << buf;
  std::snprintf(buf, sizeof buf, "ocr:      %.2f s a receipt (one worker's time, as recorded in the readings)\n",
                n ? ocr_ms / 1000 / n : 0.0);
  s << buf;
  if (!second_engine.empty()) {
    std::snprintf(buf, sizeof buf, "second:   %s read %d of %d whole and the header lines of %d (computed %d, cached %d)\n",
                  second_engine.c_str(), second_read, n, second_lines, second_computed, second_cached);
    s << buf;
  }
  s << "note:     " << routing_note << "\n";
  if (has_numbers) s << numbers.ToText();
  if (has_holdout) {
    s << "\n" << ScoreLine("tuning:", tuning) << ScoreLine("hold-out:", holdout);
    if (!show_holdout_misses) s << "(misses of the hold-out receipts are not listed)\n";
  }
  const auto reasons = ReviewReasons(receipts, show_holdout_misses);
  if (!reasons.empty()) {
    s << "\nwhy the others went to a clerk (receipts"
      << (has_holdout && !show_holdout_misses ? " of the tuning set" : "") << ", numbers as N):\n";
    for (size_t i = 0; i < reasons.size() && i < kReviewReasonsShown; ++i) {
      std::snprintf(buf, sizeof buf, "  %4d  ", reasons[i].second);
      s << buf << reasons[i].first << "\n";
    }
    if (reasons.size() > kReviewReasonsShown)
      s << "  (" << reasons.size() - kReviewReasonsShown << " more kinds in --json)\n";
  }
  s << "\nmisses (expected | found):\n";
  for (const auto& r : receipts) {
    if (r.holdout && !show_holdout_misses) continue;
    auto miss = [&](const char* name, const EvalField& f) {
      if (!f.correct) s << "  " << r.id << " " << name << ": " << f.expected << " | " << f.found << "\n";
    };
    if (!r.error.empty()) s << "  " << r.id << " error: " << r.error << "\n";
    miss("total", r.total);
    miss("date", r.date);
    miss("company", r.company);
    miss("address", r.address);
    if (r.number_labelled) {
      bool ok = r.number_expected ? SameNumber(*r.number_expected, r.number_found)
                                  : r.number_found.empty();
      if (!ok) {
        s << "  " << r.id
          << " receipt number: " << (r.number_expected ? *r.number_expected : "(none printed)")
          << " | " << r.number_found << "\n";
      }
    }
    if (r.decision == "submit" && (!r.total.correct || !r.date.correct)) {
      s << "  " << r.id << " ** submitted with a wrong total or date (confidence " << r.confidence << ")\n";
    }
  }
  return s.str();
}

}  // namespace ncbocr
