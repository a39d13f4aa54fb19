// What libraries print on stderr, sent to the log while a stage runs.
//
// libjpeg ("Corrupt JPEG data: premature end of data segment") and libpng
// ("libpng warning: ...") print warnings straight to file descriptor 2 from
// inside OpenCV's decoders, with no hook to turn them off. When the log is a
// file or syslog, such lines would reach the terminal or cron's mail raw and
// without a time or stage; while a StderrToLog is alive they become warnings
// in the stage's log instead ("library: ..."), one per line, cut to 300 bytes.
// std::terminate's message still goes to the real stderr; a sanitizer's
// report may be lost with the process (its exit status still tells).
#ifndef NCBOCR_STDERR_CAPTURE_H_
#define NCBOCR_STDERR_CAPTURE_H_

#include <thread>

#include "ncbocr/log.h"

namespace ncbocr {

class StderrToLog {
 public:
  // Redirects fd 2 into a pipe read by a thread that logs to `log`. Does
  // nothing (stderr stays as it is) if `active` is false, e.g. when the log
  // itself is stderr, or if the pipe cannot be made.
  StderrToLog(Logger log, bool active);
  // Puts fd 2 back and logs what is left.
  ~StderrToLog();
  StderrToLog(const StderrToLog&) = delete;
  StderrToLog& operator=(const StderrToLog&) = delete;

  bool active() const { return saved_fd_ >= 0; }

 private:
  Logger log_;
  int saved_fd_ = -1;
  int read_fd_ = -1;
  std::thread reader_;
};

// True when LogConfig sends log lines elsewhere than stderr.
bool LogLeavesStderr(const LogConfig& config);

}  // namespace ncbocr

#endif  // NCBOCR_STDERR_CAPTURE_H_
