#include "ncbocr/status.h"

namespace ncbocr {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return "ok";
    case ErrorKind::kUsage: return "usage";
    case ErrorKind::kPermanent: return "bad data";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kInternal: return "internal error";
    case ErrorKind::kIo: return "I/O error";
    case ErrorKind::kTransient: return "temporary failure";
    case ErrorKind::kCredentials: return "credentials refused";
    case ErrorKind::kConfig: return "configuration error";
  }
  return "unknown";
}

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return kExitOk;
    case ErrorKind::kUsage: return kExitUsage;
    case ErrorKind::kPermanent: return kExitDataErr;
    case ErrorKind::kUnavailable: return kExitUnavailable;
    case ErrorKind::kInternal: return kExitSoftware;
    case ErrorKind::kIo: return kExitIoErr;
    case ErrorKind::kTransient: return kExitTempFail;
    case ErrorKind::kCredentials: return kExitNoPerm;
    case ErrorKind::kConfig: return kExitConfig;
  }
  return kExitSoftware;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorKindName(kind_)) + ": " + message_;
}

int Status::exit_code() const { return ExitCodeFor(kind_); }

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(kind_, context + ": " + message_);
}

}  // namespace ncbocr
