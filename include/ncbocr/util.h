// Small helpers shared by every unit: durable file writes, hashing, time.
#ifndef NCBOCR_UTIL_H_
#define NCBOCR_UTIL_H_

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

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
// Parses either form (and a bare date as midnight UTC).
std::optional<std::chrono::system_clock::time_point> ParseIso(const std::string& s);

// Trims ASCII whitespace at both ends.
std::string Trim(const std::string& s);

}  // namespace ncbocr

#endif  // NCBOCR_UTIL_H_
