// Status: the outcome of an operation, as a value (never an exception).
//
// Every library function that can fail returns a Status, or a Result<T> that
// holds either a value or a non-ok Status. The kind says what the caller should
// do about it: retry later (kTransient), park the claim (kPermanent), fix the
// configuration (kConfig), and so on. Each kind maps to one sysexits(3) exit
// code, which is the binary's documented contract (man/ncbocr.1).
#ifndef NCBOCR_STATUS_H_
#define NCBOCR_STATUS_H_

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ncbocr {

enum class ErrorKind {
  kOk,
  kUsage,        // bad command line                      -> 64 EX_USAGE
  kPermanent,    // this input is bad; retrying won't help -> 65 EX_DATAERR
  kUnavailable,  // a service is down or refuses          -> 69 EX_UNAVAILABLE
  kInternal,     // a bug or an impossible state          -> 70 EX_SOFTWARE
  kIo,           // local disk or file error              -> 74 EX_IOERR
  kTransient,    // try again later                       -> 75 EX_TEMPFAIL
  kCredentials,  // credentials refused or unsafe         -> 77 EX_NOPERM
  kConfig,       // configuration is wrong                -> 78 EX_CONFIG
};

// Exit codes (sysexits.h values, spelled out so no platform header is needed).
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 64,
  kExitDataErr = 65,
  kExitUnavailable = 69,
  kExitSoftware = 70,
  kExitIoErr = 74,
  kExitTempFail = 75,
  kExitNoPerm = 77,
  kExitConfig = 78,
};

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Usage(std::string m) { return Status(ErrorKind::kUsage, std::move(m)); }
  static Status Permanent(std::string m) { return Status(ErrorKind::kPermanent, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(ErrorKind::kUnavailable, std::move(m)); }
  static Status Internal(std::string m) { return Status(ErrorKind::kInternal, std::move(m)); }
  static Status Io(std::string m) { return Status(ErrorKind::kIo, std::move(m)); }
  static Status Transient(std::string m) { return Status(ErrorKind::kTransient, std::move(m)); }
  static Status Credentials(std::string m) { return Status(ErrorKind::kCredentials, std::move(m)); }
  static Status Config(std::string m) { return Status(ErrorKind::kConfig, std::move(m)); }

  bool ok() const { return kind_ == ErrorKind::kOk; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // "transient: NCB answered 503" etc.; "ok" for success.
  std::string ToString() const;
  // The sysexits code for this status (0 when ok).
  int exit_code() const;
  // Returns a copy whose message is prefixed with "context: ".
  Status WithContext(const std::string& context) const;

 private:
  Status(ErrorKind k, std::string m) : kind_(k), message_(std::move(m)) {}
  ErrorKind kind_ = ErrorKind::kOk;
  std::string message_;
};

const char* ErrorKindName(ErrorKind kind);
int ExitCodeFor(ErrorKind kind);

// Result<T>: a T or an error Status. REQUIRES: status passed in is not ok.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}      // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ncbocr

#endif  // NCBOCR_STATUS_H_
