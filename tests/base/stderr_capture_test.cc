// Tests of stderr_capture.h: library messages on fd 2 reach the log, and fd 2
// is put back afterwards.
#include "ncbocr/stderr_capture.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <sstream>
#include <vector>

#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/sinks/ostream_sink.h>

namespace ncbocr {
namespace {

struct Captured {
  Captured() {
    log = std::make_shared<spdlog::logger>("ocr",
                                           std::make_shared<spdlog::sinks::ostream_sink_mt>(text));
    log->set_pattern("%l %v");
  }
  std::ostringstream text;
  Logger log;
};

ino_t Fd2Inode() {
  struct stat st {};
  REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
  return st.st_ino;
}

TEST_CASE("stderr capture: libjpeg's warnings go to the log, not to stderr") {
  // Issue 15: libjpeg printed "Corrupt JPEG data" raw on stderr with log.file set.
  cv::Mat page(400, 300, CV_8UC1, cv::Scalar(200));
  cv::putText(page, "TOTAL 12.00", {20, 200}, cv::FONT_HERSHEY_SIMPLEX, 1.0, cv::Scalar(0), 2);
  std::vector<unsigned char> jpeg;
  REQUIRE(cv::imencode(".jpg", page, jpeg));
  jpeg.resize(jpeg.size() / 2);  // cut in the middle of the scan
  char tmpl[] = "/tmp/ncbocr-stderr-XXXXXX";
  int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, jpeg.data(), jpeg.size()) == static_cast<ssize_t>(jpeg.size()));
  ::close(fd);
  const std::string path = tmpl;

  ino_t before = Fd2Inode();
  Captured c;
  {
    StderrToLog capture(c.log, true);
    REQUIRE(capture.active());
    CHECK(Fd2Inode() != before);
    // The way document.cc reads a receipt: libjpeg decodes what is there and warns.
    cv::Mat m = cv::imread(path, cv::IMREAD_GRAYSCALE);
    std::fprintf(stderr, "second line\nno newline at the end");
  }
  ::unlink(path.c_str());
  CHECK(Fd2Inode() == before);
  std::string logged = c.text.str();
  CAPTURE(logged);
  CHECK(logged.find("warning library: Premature end of JPEG file") != std::string::npos);
  CHECK(logged.find("warning library: second line\n") != std::string::npos);
  CHECK(logged.find("warning library: no newline at the end\n") != std::string::npos);
}

TEST_CASE("stderr capture: std::terminate's message still reaches the real stderr") {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the child: its stderr is our pipe; it dies inside a capture
    std::signal(SIGABRT, SIG_DFL);  // not doctest's crash report
    ::dup2(out[1], STDERR_FILENO);
    ::close(out[0]);
    StderrToLog capture(NullLogger(), true);
    std::fprintf(stderr, "captured\n");
    std::terminate();
  }
  ::close(out[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) {
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(got.find("terminate called") != std::string::npos);
  CHECK(got.find("captured") == std::string::npos);
}

TEST_CASE("stderr capture: inactive when the log is stderr itself") {
  ino_t before = Fd2Inode();
  Captured c;
  {
    StderrToLog capture(c.log, false);
    CHECK_FALSE(capture.active());
    CHECK(Fd2Inode() == before);
  }
  LogConfig config;
  CHECK_FALSE(LogLeavesStderr(config));
  config.file = "/var/log/ncbocr/ncbocr.log";
  CHECK(LogLeavesStderr(config));
  config.file.clear();
  config.syslog = true;
  CHECK(LogLeavesStderr(config));
}

}  // namespace
}  // namespace ncbocr
