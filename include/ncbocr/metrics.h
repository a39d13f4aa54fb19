// Metrics: the pipeline's numbers in the Prometheus text format, for the
// node exporter's textfile collector (metrics.textfile_dir/ncbocr.prom).
//
// Every number is derived from what the spool already keeps durably, so the
// counters survive across the short-lived processes cron starts:
//   - claims moved per stage and target state, and NCB submission outcomes,
//     are counted from journal/journal.log (append-only, so they only grow);
//   - claims per state and the oldest claim's age come from the queue dirs;
//   - last run, last success, duration and failures per stage come from
//     stages/<stage>.json;
//   - OCR time and extraction confidence histograms are built from each
//     claim's ocr.json timings and manifest confidence. Reading every ocr.json
//     on every run would cost more than the stages themselves, so each claim's
//     two values are remembered in metrics/observed.json the first time they
//     are seen; that file also keeps the histograms from shrinking when old
//     claims leave the spool.
// No label or value carries personal data: only stage, state and outcome names.
// The text format is written here, not by a client library: Debian 12 packages
// no C++ Prometheus client, and the format is a few line shapes
// (# HELP, # TYPE, name{labels} value) we write and test directly.
#ifndef NCBOCR_METRICS_H_
#define NCBOCR_METRICS_H_

#include <string>

#include "ncbocr/config.h"
#include "ncbocr/http.h"
#include "ncbocr/spool.h"
#include "ncbocr/stage.h"
#include "ncbocr/status.h"

namespace ncbocr {

// Renders all metrics as Prometheus text exposition format (version 0.0.4).
// update_cache: record newly seen claims in metrics/observed.json (the caller
// should hold the "metrics" lock; see WriteMetricsFile). Never fails: a
// unreadable journal or claim is skipped and counted in ncbocr_metrics_errors.
std::string RenderMetrics(const Spool& spool, TimePoint now, bool update_cache);

// The file WriteMetricsFile writes: <textfile_dir>/ncbocr.prom.
std::string MetricsFilePath(const MetricsConfig& config);

// Renders and writes the metrics file atomically (mode 0644: no personal
// data). Takes the spool's "metrics" lock without waiting; if another process
// holds it, that process is writing the same numbers and this returns ok
// without writing. kIo if the directory is missing or not writable.
Status WriteMetricsFile(const MetricsConfig& config, const Spool& spool, TimePoint now);

// The part of a rendering (RenderMetrics) that is about one stage: the series
// labelled stage="<stage>", with their # HELP and # TYPE lines.
std::string StageMetrics(const std::string& rendered, const std::string& stage);

// Pushes text to a Prometheus Pushgateway as the group job=<stage>,
// instance=<instance> (PUT: the group's previous series are replaced).
// Errors: kConfig for a URL CheckUrlAllowed refuses; kUnavailable when the
// gateway cannot be reached or does not answer 200/202.
Status PushStageMetrics(HttpClient& http, const std::string& gateway_url, const std::string& stage,
                        const std::string& instance, const std::string& text);

// For StageContext::after_run, after every stage run: rewrites the textfile
// when metrics.enabled, and pushes the stage's series to
// metrics.pushgateway_url when set (instance: the host name, which is the
// pod's name on Kubernetes). So the dashboards lag the pipeline by one run at
// most. A write or push that fails logs a warning to ctx.log and changes
// nothing else.
void WriteMetricsAfterRun(const StageContext& ctx);

}  // namespace ncbocr

#endif  // NCBOCR_METRICS_H_
