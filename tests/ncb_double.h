// Test helper: runs tests/doubles/ncb_double.py (the NCB test double) on
// 127.0.0.1 for the life of one object, and talks to its control endpoints.
#ifndef NCBOCR_TESTS_NCB_DOUBLE_H_
#define NCBOCR_TESTS_NCB_DOUBLE_H_

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/http.h"
#include "ncbocr/log.h"

namespace ncbocr::testing {

// A private directory removed with everything in it.
struct ScratchDir {
  explicit ScratchDir(const char* tag = "ncbocr-test") {
    std::string tmpl = std::string("/tmp/") + tag + ".XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

class NcbDouble {
 public:
  // extra: more flags for the double (--tls-cert, --fail-next...). ca_file:
  // the CA to trust when the double speaks TLS.
  explicit NcbDouble(const std::string& api_key, std::vector<std::string> extra = {},
                     const std::string& ca_file = "")
      : tls_(!ca_file.empty()) {
    std::vector<std::string> args = {"python3", std::string(NCBOCR_SOURCE_DIR) + "/tests/doubles/ncb_double.py",
                                     "--api-key", api_key};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (::getenv("NCBOCR_TEST_VERBOSE") == nullptr) ::dup2(devnull, 2);
      ::close(out[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char ch;
    while (::read(out[0], &ch, 1) == 1 && ch != '\n') line.push_back(ch);
    ::close(out[0]);
    port_ = std::atoi(line.c_str());
    HttpOptions o;
    o.ca_file = ca_file;
    o.timeout_s = 10;
    http_ = MakeCurlClient(o, NullLogger());
  }
  ~NcbDouble() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  NcbDouble(const NcbDouble&) = delete;
  NcbDouble& operator=(const NcbDouble&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string base_url() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + "/api/v1";
  }
  std::string root_url() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }

  // POST /_control; returns the faults now set.
  nlohmann::json Control(const nlohmann::json& cmd) {
    HttpRequest r;
    r.method = "POST";
    r.url = root_url() + "/_control";
    r.body = cmd.dump();
    return Parse(http_->Send(r));
  }
  // GET /_claims: {"claims": [...], "requests": [...]}.
  nlohmann::json Dump() {
    HttpRequest r;
    r.url = root_url() + "/_claims";
    return Parse(http_->Send(r));
  }

 private:
  static nlohmann::json Parse(const Result<HttpResponse>& r) {
    if (!r.ok() || r->status != 200) return nlohmann::json();
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  bool tls_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::unique_ptr<HttpClient> http_;
};

// Makes a private CA and a server certificate for 127.0.0.1 in dir (see
// tests/doubles/make_test_ca.sh). False if openssl is missing.
inline bool MakeTestCa(const std::filesystem::path& dir) {
  std::string cmd = "bash '" + std::string(NCBOCR_SOURCE_DIR) + "/tests/doubles/make_test_ca.sh' '" +
                    dir.string() + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// The key the shared doubles accept.
inline const char* kDoubleKey = "secret-key";

// One plain double for the whole test binary (starting Python takes seconds
// on a busy machine); every call resets its claims, requests and faults.
inline NcbDouble& SharedNcbDouble() {
  static NcbDouble d(kDoubleKey);
  d.Control({{"reset", true}});
  return d;
}

// One double speaking TLS with a certificate from a private CA (ca_file).
struct TlsNcbDouble {
  ScratchDir certs{"ncbocr-test-ca"};
  bool made = MakeTestCa(certs.path);
  std::string ca_file = (certs.path / "ca.pem").string();
  std::string other_ca_file = (certs.path / "other-ca.pem").string();
  NcbDouble ncb{kDoubleKey,
                {"--tls-cert", (certs.path / "server.pem").string(), "--tls-key",
                 (certs.path / "server.key").string()},
                ca_file};
  bool ok() const { return made && ncb.ok(); }
};

inline TlsNcbDouble& SharedTlsNcbDouble() {
  static TlsNcbDouble d;
  d.ncb.Control({{"reset", true}});
  return d;
}

}  // namespace ncbocr::testing

#endif  // NCBOCR_TESTS_NCB_DOUBLE_H_
