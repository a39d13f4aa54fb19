#include "ncbocr/metrics.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ncbocr/report.h"
#include "ncbocr/util.h"
#include "ncbocr/version.h"

namespace ncbocr {

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Label values are stage, state and outcome names, but they come from files
// other processes write: escape them as the exposition format requires.
std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

class PromText {
 public:
  void Family(const std::string& name, const char* type, const std::string& help) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  void Sample(const std::string& name, const Labels& labels, double value) {
    out_ << name;
    if (!labels.empty()) {
      out_ << "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        out_ << (i ? "," : "") << labels[i].first << "=\"" << EscapeLabel(labels[i].second) << "\"";
      }
      out_ << "}";
    }
    out_ << " " << Num(value) << "\n";
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

struct Histogram {
  std::vector<double> bounds;
  std::vector<long long> counts;  // per bucket, not cumulative
  double sum = 0;
  long long count = 0;

  explicit Histogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size(), 0) {}
  void Observe(double v) {
    for (size_t i = 0; i < bounds.size(); ++i) {
      if (v <= bounds[i]) {
        counts[i]++;
        break;
      }
    }
    sum += v;
    count++;
  }
  void Render(PromText& p, const std::string& name, const std::string& help) const {
    p.Family(name, "histogram", help);
    long long cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += counts[i];
      p.Sample(name + "_bucket", {{"le", Num(bounds[i])}}, static_cast<double>(cumulative));
    }
    p.Sample(name + "_bucket", {{"le", "+Inf"}}, static_cast<double>(count));
    p.Sample(name + "_sum", {}, sum);
    p.Sample(name + "_count", {}, static_cast<double>(count));
  }
};

double Seconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The stage part of a journal actor: "user:NAME" counts as "user" (a clerk's
// name is not a metric label); anything odd as "other".
std::string ActorLabel(const std::string& actor) {
  if (actor.rfind("user:", 0) == 0) return "user";
  bool plain = !actor.empty() && actor.size() <= 32 &&
               std::all_of(actor.begin(), actor.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
               });
  return plain ? actor : "other";
}

// What a submit-stage move says about NCB's answer (see submit.h).
const char* SubmissionOutcome(const std::string& to) {
  if (to == "submitted") return "accepted";
  if (to == "review") return "refused";
  if (to == "deferred") return "retry";
  if (to == "failed") return "gave_up";
  return nullptr;
}

void RenderJournal(const Spool& spool, PromText& p, int& errors) {
  auto journal = spool.ReadJournal();
  if (!journal.ok()) {
    ++errors;
    return;
  }
  std::map<std::pair<std::string, std::string>, long long> moves;
  std::map<std::string, long long> submissions = {
      {"accepted", 0}, {"refused", 0}, {"retry", 0}, {"gave_up", 0}};
  for (const auto& e : *journal) {
    if (!e.is_object()) continue;
    std::string to = e.value("to", "");
    std::string actor = ActorLabel(e.value("actor", ""));
    if (to.empty() || !ParseClaimState(to)) continue;
    moves[{actor, to}]++;
    if (actor == "submit") {
      if (const char* o = SubmissionOutcome(to)) submissions[o]++;
    }
  }
  p.Family("ncbocr_claims_processed_total", "counter",
           "Claims moved by each stage (or clerk), by the state they were moved to.");
  for (const auto& [k, n] : moves) {
    p.Sample("ncbocr_claims_processed_total", {{"stage", k.first}, {"to", k.second}},
             static_cast<double>(n));
  }
  p.Family("ncbocr_ncb_submissions_total", "counter",
           "NCB submission attempts by outcome: accepted (incl. replays and duplicates), "
           "refused (sent to review), retry (deferred), gave_up (failed).");
  for (const auto& [o, n] : submissions) {
    p.Sample("ncbocr_ncb_submissions_total", {{"outcome", o}}, static_cast<double>(n));
  }
}

bool ActiveState(ClaimState s) {
  return s != ClaimState::kDone && s != ClaimState::kRejected && s != ClaimState::kDuplicate;
}

void RenderQueues(const Spool& spool, TimePoint now, PromText& p) {
  p.Family("ncbocr_claims", "gauge", "Claims currently in each spool state.");
  std::map<std::string, double> oldest;
  for (ClaimState s : AllClaimStates()) {
    auto ids = spool.List(s);
    p.Sample("ncbocr_claims", {{"state", ClaimStateName(s)}}, static_cast<double>(ids.size()));
    if (!ActiveState(s)) continue;
    double age = 0;
    for (const auto& id : ids) {
      auto c = spool.LoadIn(s, id);
      if (!c.ok()) continue;
      std::string entered = c->history.empty() ? c->created_at : c->history.back().at;
      if (auto t = ParseIso(entered)) age = std::max(age, std::chrono::duration<double>(now - *t).count());
    }
    oldest[ClaimStateName(s)] = age;
  }
  p.Family("ncbocr_claims_oldest_age_seconds", "gauge",
           "Seconds the longest-waiting claim has been in each non-final state (0 when empty).");
  for (const auto& [s, age] : oldest) {
    p.Sample("ncbocr_claims_oldest_age_seconds", {{"state", s}}, std::floor(age));
  }
}

void RenderStages(const Spool& spool, PromText& p) {
  struct Gauge { const char* name; const char* help; };
  const Gauge gauges[] = {
      {"ncbocr_stage_last_run_timestamp_seconds", "Start of the last run of each stage (Unix time)."},
      {"ncbocr_stage_last_success_timestamp_seconds", "Start of the last successful run (Unix time)."},
      {"ncbocr_stage_last_duration_seconds", "Duration of the last run of each stage."},
      {"ncbocr_stage_last_exit_code", "Exit code of the last run (0 ok, 69 unavailable, 75 retry, 77 credentials refused...)."},
      {"ncbocr_stage_consecutive_failures", "Failed runs of each stage in a row."},
      {"ncbocr_stage_last_run_claims", "Claims handled by the last run of each stage."},
  };
  std::map<std::string, std::vector<std::pair<std::string, double>>> values;
  for (const auto& stage : RecordedStages(spool)) {
    auto run = spool.ReadStageRun(stage);
    if (!run || !run->is_object()) continue;
    const auto& r = *run;
    auto number = [&](const char* k) {
      auto it = r.find(k);
      return it != r.end() && it->is_number() ? it->get<double>() : 0.0;
    };
    if (auto t = ParseIso(r.value("started_at", ""))) values[gauges[0].name].push_back({stage, Seconds(*t)});
    if (auto t = ParseIso(r.value("last_success_at", ""))) values[gauges[1].name].push_back({stage, Seconds(*t)});
    values[gauges[2].name].push_back({stage, number("duration_s")});
    values[gauges[3].name].push_back({stage, number("exit_code")});
    values[gauges[4].name].push_back({stage, number("consecutive_failures")});
    values[gauges[5].name].push_back({stage, number("claims")});
  }
  for (const auto& g : gauges) {
    p.Family(g.name, "gauge", g.help);
    for (const auto& [stage, v] : values[g.name]) p.Sample(g.name, {{"stage", stage}}, v);
  }
}

// metrics/observed.json: {"claims": {ID: {"o": ocr seconds, "c": confidence,
// "f": 1 once nothing more can be learnt}}}.
fs::path CachePath(const Spool& spool) { return spool.root() / "metrics" / "observed.json"; }

nlohmann::json LoadCache(const Spool& spool) {
  auto bytes = ReadFile(CachePath(spool));
  if (bytes.ok()) {
    try {
      auto j = nlohmann::json::parse(*bytes);
      if (j.is_object() && j.contains("claims") && j["claims"].is_object()) return j;
    } catch (const nlohmann::json::exception&) {
      // A damaged cache is rebuilt from the claims still in the spool.
    }
  }
  return {{"claims", nlohmann::json::object()}};
}

std::optional<double> OcrSeconds(const Spool& spool, const Claim& c) {
  if (!spool.HasClaimFile(c, "ocr.json")) return std::nullopt;
  auto raw = spool.ReadClaimFile(c, "ocr.json");
  if (!raw.ok()) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(*raw);
    const auto& t = j.at("timings");
    if (t.contains("total_ms") && t["total_ms"].is_number()) return t["total_ms"].get<double>() / 1000.0;
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

// Adds what is newly observable about each claim to the cache; true if changed.
bool ObserveClaims(const Spool& spool, nlohmann::json& cache, int& errors) {
  bool changed = false;
  auto& claims = cache["claims"];
  for (ClaimState s : AllClaimStates()) {
    if (s == ClaimState::kFetched) continue;  // nothing recorded yet
    for (const auto& id : spool.List(s)) {
      nlohmann::json& e = claims[id];
      if (!e.is_object()) e = nlohmann::json::object();
      if (e.contains("f") || (e.contains("o") && e.contains("c"))) continue;
      auto c = spool.LoadIn(s, id);
      if (!c.ok()) {
        if (c.status().kind() != ErrorKind::kPermanent || spool.Exists(id)) ++errors;
        if (e.empty()) claims.erase(id);
        continue;
      }
      size_t before = e.size();
      if (!e.contains("o")) {
        if (auto secs = OcrSeconds(spool, *c)) e["o"] = *secs;
      }
      if (!e.contains("c") && c->confidence) e["c"] = *c->confidence;
      if (!ActiveState(s)) e["f"] = 1;
      if (e.size() != before) changed = true;
      if (e.empty()) claims.erase(id);
    }
  }
  return changed;
}

void RenderObserved(const nlohmann::json& cache, PromText& p) {
  Histogram ocr({0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300});
  Histogram conf({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1});
  for (const auto& [id, e] : cache["claims"].items()) {
    if (e.contains("o") && e["o"].is_number()) ocr.Observe(e["o"].get<double>());
    if (e.contains("c") && e["c"].is_number()) conf.Observe(e["c"].get<double>());
  }
  ocr.Render(p, "ncbocr_ocr_duration_seconds", "OCR time per claim (decode, preprocess, recognise), from ocr.json.");
  conf.Render(p, "ncbocr_extraction_confidence", "Overall extraction confidence per claim (0..1).");
}

void RenderDisk(const Spool& spool, PromText& p, int& errors) {
  struct statvfs st{};
  if (::statvfs(spool.root().c_str(), &st) != 0) {
    ++errors;
    return;
  }
  double unit = static_cast<double>(st.f_frsize);
  p.Family("ncbocr_spool_filesystem_free_bytes", "gauge", "Bytes available to ncbocr on the spool's file system.");
  p.Sample("ncbocr_spool_filesystem_free_bytes", {}, static_cast<double>(st.f_bavail) * unit);
  p.Family("ncbocr_spool_filesystem_size_bytes", "gauge", "Size of the spool's file system.");
  p.Sample("ncbocr_spool_filesystem_size_bytes", {}, static_cast<double>(st.f_blocks) * unit);
}

}  // namespace

std::string RenderMetrics(const Spool& spool, TimePoint now, bool update_cache) {
  PromText p;
  int errors = 0;
  p.Family("ncbocr_build_info", "gauge", "Always 1; the version of ncbocr that wrote these metrics.");
  p.Sample("ncbocr_build_info", {{"version", NCBOCR_VERSION}}, 1);
  RenderJournal(spool, p, errors);
  RenderQueues(spool, now, p);
  RenderStages(spool, p);

  nlohmann::json cache = LoadCache(spool);
  if (ObserveClaims(spool, cache, errors) && update_cache) {
    Status s = MakeDirs(CachePath(spool).parent_path(), 0700);
    if (s.ok()) s = AtomicWriteFile(CachePath(spool), cache.dump() + "\n", 0600);
    if (!s.ok()) ++errors;
  }
  RenderObserved(cache, p);
  RenderDisk(spool, p, errors);

  p.Family("ncbocr_metrics_errors", "gauge", "Spool files that could not be read while rendering these metrics.");
  p.Sample("ncbocr_metrics_errors", {}, errors);
  p.Family("ncbocr_metrics_generated_timestamp_seconds", "gauge", "When these metrics were written (Unix time).");
  p.Sample("ncbocr_metrics_generated_timestamp_seconds", {}, std::floor(Seconds(now)));
  return p.str();
}

std::string MetricsFilePath(const MetricsConfig& config) {
  return (fs::path(config.textfile_dir) / "ncbocr.prom").string();
}

Status WriteMetricsFile(const MetricsConfig& config, const Spool& spool, TimePoint now) {
  if (config.textfile_dir.empty()) return Status::Config("metrics.textfile_dir is empty");
  std::error_code ec;
  if (!fs::is_directory(config.textfile_dir, ec)) {
    return Status::Io("metrics directory " + config.textfile_dir + " does not exist");
  }
  auto lock = spool.TryLockStage("metrics");
  if (!lock.ok()) return lock.status();
  if (!lock->held()) return Status::Ok();
  return AtomicWriteFile(MetricsFilePath(config), RenderMetrics(spool, now, true), 0644);
}

std::string StageMetrics(const std::string& rendered, const std::string& stage) {
  const std::string label = "stage=\"" + stage + "\"";
  std::string out, comments;  // # HELP/# TYPE of the family being read
  bool family_written = false;
  size_t start = 0;
  while (start < rendered.size()) {
    size_t end = rendered.find('\n', start);
    if (end == std::string::npos) end = rendered.size();
    std::string line = rendered.substr(start, end - start);
    start = end + 1;
    if (line.rfind("# HELP ", 0) == 0) {
      comments = line + "\n";
      family_written = false;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      comments += line + "\n";
    } else if (line.find(label) != std::string::npos) {
      if (!family_written) out += comments;
      family_written = true;
      out += line + "\n";
    }
  }
  return out;
}

Status PushStageMetrics(HttpClient& http, const std::string& gateway_url, const std::string& stage,
                        const std::string& instance, const std::string& text) {
  Status allowed = CheckUrlAllowed(gateway_url);
  if (!allowed.ok()) return allowed;
  std::string base = gateway_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpRequest req;
  req.method = "PUT";
  req.url = base + "/metrics/job/" + UrlEncode(stage) + "/instance/" + UrlEncode(instance);
  req.headers = {{"Content-Type", "text/plain; version=0.0.4"}};
  req.body = text;
  auto resp = http.Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status == 200 || resp->status == 202) return Status::Ok();
  if (resp->status == 0) return Status::Unavailable("Pushgateway " + RedactUrl(base) + ": " + resp->error);
  return Status::Unavailable("Pushgateway " + RedactUrl(base) + " answered HTTP " + std::to_string(resp->status));
}

void WriteMetricsAfterRun(const StageContext& ctx) {
  const MetricsConfig& mc = ctx.config.metrics;
  if (mc.enabled) {
    Status m = WriteMetricsFile(mc, ctx.spool, ctx.clock.Now());
    if (!m.ok()) ctx.log->warn("cannot write metrics: {}", m.ToString());
  }
  if (!mc.pushgateway_url.empty()) {
    HttpOptions options;
    auto http = MakeCurlClient(options, ctx.log);
    std::string text = StageMetrics(RenderMetrics(ctx.spool, ctx.clock.Now(), false), ctx.stage);
    Status p = PushStageMetrics(*http, mc.pushgateway_url, ctx.stage,
                                mc.instance.empty() ? HostName() : mc.instance, text);
    if (!p.ok()) ctx.log->warn("cannot push metrics: {}", p.ToString());
  }
}

}  // namespace ncbocr
