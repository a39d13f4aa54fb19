// Shared test helpers: a temporary directory that cleans up after itself, and
// a quick way to put a claim into a real spool.
#ifndef NCBOCR_TESTS_TEST_UTIL_H_
#define NCBOCR_TESTS_TEST_UTIL_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "ncbocr/spool.h"
#include "ncbocr/util.h"

// The CPU time this thread has used, in seconds: what the time bounds below
// measure, so a busy machine (a parallel build, other tests) cannot fail
// them, while a quadratic parser still does.
inline double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Time bounds in tests ("linear, so 1 MB in under 2 s") hold for the normal
// build; the sanitizer build runs the same code several times slower, so
// there the bound is wider by this factor (still far below what a
// quadratic parser takes on the same input: minutes).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr double kSanitizerSlowdown = 5.0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
inline constexpr double kSanitizerSlowdown = 5.0;
#else
inline constexpr double kSanitizerSlowdown = 1.0;
#endif
#else
inline constexpr double kSanitizerSlowdown = 1.0;
#endif

namespace ncbocr::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ncbocr-test-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? p : tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Commits a claim into state with an attachment holding `bytes` and, if
// extract is not null, an extract.json with those field values.
inline Claim PutClaim(const Spool& spool, ClaimState state, const std::string& bytes = "receipt",
                      const nlohmann::json& extract = nullptr, const std::string& id = "") {
  auto d = spool.NewDraft(id.empty() ? NewClaimId() : id);
  if (!d.ok()) throw std::runtime_error(d.status().ToString());
  d->claim.source.kind = "eml";
  d->claim.source.email_id = "mail-1";
  d->claim.source.part_count = 1;
  Attachment a;
  a.filename = "receipt.jpg";
  a.content_type = "image/jpeg";
  a.sha256 = Sha256Hex(bytes);
  a.size = static_cast<long long>(bytes.size());
  a.stored_name = "original.jpg";
  d->claim.attachment = a;
  if (!spool.WriteDraftFile(*d, "original.jpg", bytes).ok()) throw std::runtime_error("write");
  if (!extract.is_null()) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& [k, v] : extract.items()) fields[k] = {{"value", v}, {"confidence", 0.99}, {"source", "ocr"}};
    nlohmann::json doc = {{"fields", fields}, {"confidence", 0.95}, {"decision", "submit"}, {"reasons", nlohmann::json::array()}};
    if (!spool.WriteDraftFile(*d, "extract.json", doc.dump()).ok()) throw std::runtime_error("write");
  }
  Status s = spool.Commit(*d, state, "test", "");
  if (!s.ok()) throw std::runtime_error(s.ToString());
  auto c = spool.LoadIn(state, d->claim.id);
  if (!c.ok()) throw std::runtime_error(c.status().ToString());
  return *c;
}

// A run's lease as a run of another process or host holds it:
// stages/<stage>@<run>.running with `lease`, locked through its own open
// (an OFD lock). The run is alive while the returned lock lives; after
// that the lease is one a dead run left.
inline StageLock HoldLease(const Spool& spool, const std::string& stage, const std::string& run,
                           const nlohmann::json& lease) {
  fs::path p = spool.root() / "stages" / (stage + "@" + run + ".running");
  Status w = AtomicWriteFile(p, lease.dump(), 0600);
  if (!w.ok()) throw std::runtime_error(w.ToString());
  int fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fd < 0 || ::fcntl(fd, F_OFD_SETLK, &fl) != 0) throw std::runtime_error("cannot lock " + p.string());
  return StageLock(fd);
}

// The lease files in stages/ (of runs under way, or left by dead ones).
inline int LeaseFileCount(const Spool& spool) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(spool.root() / "stages", ec)) {
    n += e.path().extension() == ".running";
  }
  return n;
}

}  // namespace ncbocr::testing

#endif  // NCBOCR_TESTS_TEST_UTIL_H_
