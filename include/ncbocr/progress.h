// Progress of a long interactive run (ncbocr ocr FILE..., eval): one line on
// the terminal, "ocr 12 of 250 (1.8/s, about 2m 12s left)", redrawn in place
// at most ten times a second. Silent unless stderr is a terminal and the run
// is not quiet, so cron mail, pipes and log files never see it.
#ifndef NCBOCR_PROGRESS_H_
#define NCBOCR_PROGRESS_H_

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace ncbocr {

class Progress {
 public:
  // enabled: usually Progress::Interactive(quiet).
  Progress(std::string what, size_t total, bool enabled);
  ~Progress();  // clears the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // One more item done. Thread-safe.
  void Tick();

  // stderr is a terminal (not "dumb") and quiet is off.
  static bool Interactive(bool quiet);
  // The line shown after done of total items in secs seconds.
  static std::string Line(const std::string& what, size_t done, size_t total, double secs);

 private:
  void Draw(bool force);
  std::string what_;
  size_t total_;
  bool enabled_;
  size_t done_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mu_;
};

}  // namespace ncbocr

#endif  // NCBOCR_PROGRESS_H_
