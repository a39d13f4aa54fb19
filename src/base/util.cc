#include "ncbocr/util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace ncbocr {

namespace {

std::string ErrnoText(const std::string& what, const fs::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

Status WriteAll(int fd, const std::string& bytes, const fs::path& p) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Io(ErrnoText("cannot write", p));
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status FsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Io(ErrnoText("cannot open directory", dir));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) {
    errno = saved;
    return Status::Io(ErrnoText("cannot fsync directory", dir));
  }
  return Status::Ok();
}

Status AtomicWriteFile(const fs::path& path, const std::string& bytes, unsigned mode) {
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  fs::path tmp = dir / ("." + path.filename().string() + ".tmp." + RandomHex(4));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::Io(ErrnoText("cannot create", tmp));
  ::fchmod(fd, mode);  // umask must not widen or narrow what was asked
  Status s = WriteAll(fd, bytes, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Status::Io(ErrnoText("cannot fsync", tmp));
  if (::close(fd) != 0 && s.ok()) s = Status::Io(ErrnoText("cannot close", tmp));
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::Io(ErrnoText("cannot rename onto", path));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(dir);
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::Io("cannot read " + path.string());
  return ss.str();
}

Status MakeDirs(const fs::path& dir, unsigned mode) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) {
    Status s = MakeDirs(parent, mode);
    if (!s.ok()) return s;
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return Status::Io(ErrnoText("cannot create directory", dir));
  }
  return Status::Ok();
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

std::string RandomHex(size_t n) {
  std::string buf(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(n)) != 1) {
    // The CSPRNG failing is not something to carry on from silently, but a
    // unique-enough fallback keeps temp names from colliding.
    for (size_t i = 0; i < n; ++i) buf[i] = static_cast<char>(std::rand());
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : buf) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

namespace {

std::string Format(std::chrono::system_clock::time_point t, const char* format, bool utc) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  if (utc) {
    gmtime_r(&tt, &tm);
  } else {
    localtime_r(&tt, &tm);
  }
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string FormatUtc(std::chrono::system_clock::time_point t, const char* format) { return Format(t, format, true); }

std::string FormatLocal(std::chrono::system_clock::time_point t, const char* format) {
  return Format(t, format, false);
}

std::string HostName() {
  char buf[256] = "";
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

std::string ShortAge(double secs) {
  char buf[32];
  if (secs < 120) {
    std::snprintf(buf, sizeof buf, "%.0fs", secs);
  } else if (secs < 7200) {
    std::snprintf(buf, sizeof buf, "%.0fm", secs / 60);
  } else if (secs < 172800) {
    std::snprintf(buf, sizeof buf, "%.1fh", secs / 3600);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fd", secs / 86400);
  }
  return buf;
}

std::string IsoUtc(std::chrono::system_clock::time_point t) { return FormatUtc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::string IsoLocal(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  char tz[24];  // "+HH:MM" with room for any long the compiler allows
  std::snprintf(tz, sizeof tz, "%c%02ld:%02ld", sign, off / 3600, (off % 3600) / 60);
  return std::string(buf) + tz;
}

std::optional<std::chrono::system_clock::time_point> ParseIso(const std::string& s) {
  int Y, M, D, h = 0, m = 0, sec = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d", &Y, &M, &D) != 3) return std::nullopt;
  long offset = 0;
  if (s.size() > 10) {
    if (s.size() < 19 || (s[10] != 'T' && s[10] != ' ')) return std::nullopt;
    if (std::sscanf(s.c_str() + 11, "%2d:%2d:%2d", &h, &m, &sec) != 3) return std::nullopt;
    std::string rest = s.substr(19);
    if (!rest.empty() && rest[0] == '.') {
      size_t i = 1;
      while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
      rest = rest.substr(i);
    }
    if (rest == "Z" || rest.empty()) {
      offset = 0;
    } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6) {
      int oh, om;
      if (std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
      offset = (oh * 3600L + om * 60L) * (rest[0] == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  if (h < 0 || m < 0 || sec < 0) return std::nullopt;
  // system_clock counts nanoseconds, which overflow past the year 2262: a
  // token expiry or Retry-After date of 9999 would be undefined behaviour.
  if (Y < 1900 || Y > 2200) return std::nullopt;
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  std::time_t tt = timegm(&tm);
  return std::chrono::system_clock::from_time_t(tt - offset);
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string PercentDecode(const std::string& s, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string ReplaceControlChars(std::string s, char with) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = with;
  }
  return s;
}

std::string JsonString(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double DoublingDelay(int attempt, double base, double cap) {
  double d = base;
  for (int i = 1; i < attempt && d < cap; ++i) d *= 2;
  return d < cap ? d : cap;
}

}  // namespace ncbocr
