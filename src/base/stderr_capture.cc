#include "ncbocr/stderr_capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace ncbocr {

namespace {

constexpr size_t kMaxLine = 300;

// The real stderr while a capture is on, for std::terminate: its last words
// ("terminate called after throwing ...") must reach the terminal or cron's
// mail, not a pipe whose reader dies with the process.
std::atomic<int> g_real_stderr{-1};
std::terminate_handler g_previous_terminate = nullptr;

[[noreturn]] void TerminateToRealStderr() {
  int fd = g_real_stderr.load();
  if (fd >= 0) ::dup2(fd, STDERR_FILENO);
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

void LogLine(const Logger& log, std::string line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return;
  if (line.size() > kMaxLine) line.resize(kMaxLine);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  log->warn("library: {}", line);
}

}  // namespace

bool LogLeavesStderr(const LogConfig& config) { return config.syslog || !config.file.empty(); }

StderrToLog::StderrToLog(Logger log, bool active) : log_(std::move(log)) {
  if (!active) return;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  std::fflush(stderr);
  int saved = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (saved < 0 || ::dup2(fds[1], STDERR_FILENO) < 0) {
    if (saved >= 0) ::close(saved);
    ::close(fds[0]);
    ::close(fds[1]);
    return;
  }
  ::close(fds[1]);  // fd 2 is now the only write end: EOF once it is put back
  saved_fd_ = saved;
  g_real_stderr.store(saved);
  g_previous_terminate = std::set_terminate(TerminateToRealStderr);
  read_fd_ = fds[0];
  reader_ = std::thread([this] {
    std::string pending;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(read_fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        LogLine(log_, pending.substr(start, nl - start));
      }
      pending.erase(0, start);
      // A line with no end in sight is logged in pieces rather than held.
      if (pending.size() > kMaxLine) {
        LogLine(log_, pending);
        pending.clear();
      }
    }
    LogLine(log_, pending);
  });
}

StderrToLog::~StderrToLog() {
  if (saved_fd_ < 0) return;
  std::fflush(stderr);
  std::set_terminate(g_previous_terminate);
  g_real_stderr.store(-1);
  ::dup2(saved_fd_, STDERR_FILENO);  // closes the pipe's last write end
  ::close(saved_fd_);
  reader_.join();
  ::close(read_fd_);
}

}  // namespace ncbocr
