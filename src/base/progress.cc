#include "ncbocr/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ncbocr {

namespace {

std::string Duration(double secs) {
  long long s = static_cast<long long>(secs + 0.5);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm %02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lldh %02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}

}  // namespace

Progress::Progress(std::string what, size_t total, bool enabled)
    : what_(std::move(what)), total_(total), enabled_(enabled && total > 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (enabled_) Draw(true);
}

Progress::~Progress() {
  if (enabled_) std::fputs("\r\033[K", stderr);  // the line goes; results and errors stay
}

void Progress::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  if (enabled_) Draw(done_ == total_);
}

bool Progress::Interactive(bool quiet) {
  if (quiet || ::isatty(STDERR_FILENO) != 1) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

std::string Progress::Line(const std::string& what, size_t done, size_t total, double secs) {
  std::string line = what + " " + std::to_string(done) + " of " + std::to_string(total);
  if (done == 0 || secs <= 0) return line;
  const double rate = static_cast<double>(done) / secs;
  char buf[64];
  std::snprintf(buf, sizeof buf, " (%.1f/s", rate);
  line += buf;
  if (done < total) line += ", about " + Duration(static_cast<double>(total - done) / rate) + " left";
  return line + ")";
}

void Progress::Draw(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r\033[K%s", Line(what_, done_, total_, secs).c_str());
  std::fflush(stderr);
}

}  // namespace ncbocr
