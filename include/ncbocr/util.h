// Small helpers shared by every unit: durable file writes, hashing, time.
#ifndef NCBOCR_UTIL_H_
#define NCBOCR_UTIL_H_

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "ncbocr/status.h"

namespace ncbocr {

namespace fs = std::filesystem;

// Writes bytes to path durably: a temporary file in the same directory,
// fsync, rename over path, fsync the directory. mode applies to the new file.
Status AtomicWriteFile(const fs::path& path, const std::string& bytes, unsigned mode = 0600);

// Reads a whole file. kIo naming the file on failure.
Result<std::string> ReadFile(const fs::path& path);

// fsync a directory (after a rename or create inside it).
Status FsyncDir(const fs::path& dir);

// Creates dir and its parents with mode (default 0700).
Status MakeDirs(const fs::path& dir, unsigned mode = 0700);

// Lower-case hex SHA-256 of bytes.
std::string Sha256Hex(const std::string& bytes);

// n random bytes as lower-case hex (from the OS's CSPRNG).
std::string RandomHex(size_t n);

// Time as ISO 8601: UTC "2024-12-18T02:42:00Z" or local with offset
// "2024-12-18T10:42:00+08:00".
std::string IsoUtc(std::chrono::system_clock::time_point t);
std::string IsoLocal(std::chrono::system_clock::time_point t);
// t by a strftime format, in UTC or in local time ("%Y/%m/%d" -> "2024/12/18").
std::string FormatUtc(std::chrono::system_clock::time_point t, const char* format);
std::string FormatLocal(std::chrono::system_clock::time_point t, const char* format);
// This machine's host name (a pod's name on Kubernetes); "localhost" when
// it cannot be read.
std::string HostName();
// An age for a table column: "45s", "12m", "3.5h", "2.1d".
std::string ShortAge(double seconds);
// Parses either form (and a bare date as midnight UTC).
std::optional<std::chrono::system_clock::time_point> ParseIso(const std::string& s);

// Trims ASCII whitespace at both ends.
std::string Trim(const std::string& s);

// s with ASCII letters in lower case (header names, schemes, hosts).
std::string AsciiLower(std::string s);

// Decodes %XX escapes (URL paths, IMAP URLs); with plus_is_space also '+' as a
// space (application/x-www-form-urlencoded). A malformed escape stays as is.
std::string PercentDecode(const std::string& s, bool plus_is_space = false);

// s with every ASCII control character (below 0x20, and DEL) replaced by
// `with`: for text that goes on one line of a log, a report or a CSV cell.
std::string ReplaceControlChars(std::string s, char with);

// The string at j[key]; "" when j is not an object, has no such key, or the
// value is not a string. For reading other programs' JSON leniently.
std::string JsonString(const nlohmann::json& j, const char* key);

// base * 2^(attempt-1), at most cap (attempt < 1 counts as 1): the delay
// before retry number `attempt`, before the caller's jitter. Written here:
// it is one line of arithmetic, and the HTTP retry and the spool's deferral
// differ in their jitter and units, which a library would not know.
double DoublingDelay(int attempt, double base, double cap);

}  // namespace ncbocr

#endif  // NCBOCR_UTIL_H_
