// The libcurl HttpClient, URL policy, Retry-After and retry backoff.
#include "ncbocr/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "net/curl_tls.h"
#include "ncbocr/util.h"
#include "ncbocr/version.h"

namespace ncbocr {

namespace {

constexpr size_t kMaxResponseBytes = 64u << 20;  // no service answers more; refuse a runaway


void GlobalInit() {
  // curl_global_init is not thread-safe on older libcurls; do it exactly once.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

TransportError Classify(CURLcode rc) {
  switch (rc) {
    case CURLE_OK: return TransportError::kNone;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: return TransportError::kConnect;
    case CURLE_OPERATION_TIMEDOUT: return TransportError::kTimeout;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR: return TransportError::kTls;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM: return TransportError::kReset;
    default: return TransportError::kOther;
  }
}

size_t OnBody(char* data, size_t size, size_t n, void* userp) {
  auto* body = static_cast<std::string*>(userp);
  if (body->size() + size * n > kMaxResponseBytes) return 0;  // aborts with CURLE_WRITE_ERROR
  body->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* userp) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(userp);
  std::string line(data, size * n);
  // A new status line (after 100 Continue or a proxy CONNECT) starts afresh.
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string::npos) (*headers)[AsciiLower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  return size * n;
}

// Adds the certificates of a PEM file to the store libcurl already filled
// from the system bundle: CURLOPT_CAINFO would replace the bundle instead.
CURLcode AddCaFile(CURL*, void* ssl_ctx, void* userp) {
  const auto* path = static_cast<const std::string*>(userp);
  X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
  BIO* bio = BIO_new_file(path->c_str(), "r");
  if (bio == nullptr) return CURLE_SSL_CACERT_BADFILE;
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error by design
  BIO_free(bio);
  return added > 0 ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

}  // namespace

void SetCurlTls(CURL* handle, const std::string* ca_file) {
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  if (ca_file == nullptr || ca_file->empty()) return;
  // The added CA must not leak into a cached store another handle shares.
  curl_easy_setopt(handle, CURLOPT_CA_CACHE_TIMEOUT, 0L);
  CURLcode rc = curl_easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, &AddCaFile);
  if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_SSL_CTX_DATA, ca_file);
  if (rc != CURLE_OK) {
    // A libcurl without OpenSSL: the CA file then replaces the system bundle.
    curl_easy_setopt(handle, CURLOPT_CAINFO, ca_file->c_str());
  }
}

namespace {

class CurlClient : public HttpClient {
 public:
  CurlClient(HttpOptions options, Logger log) : options_(std::move(options)), log_(std::move(log)) {
    GlobalInit();
  }
  ~CurlClient() override {
    if (handle_ != nullptr) curl_easy_cleanup(handle_);
  }
  Result<HttpResponse> Send(const HttpRequest& req) override;

 private:
  void SetTls();
  void SetMethod(const HttpRequest& req);

  HttpOptions options_;
  Logger log_;
  std::mutex mu_;
  CURL* handle_ = nullptr;  // kept between requests so connections are reused
};

void CurlClient::SetTls() { SetCurlTls(handle_, &options_.ca_file); }

void CurlClient::SetMethod(const HttpRequest& req) {
  if (req.method == "GET") {
    curl_easy_setopt(handle_, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (req.method == "HEAD") {
    curl_easy_setopt(handle_, CURLOPT_NOBODY, 1L);
    return;
  }
  // Never on a reused connection: libcurl silently resends a request whose
  // reused connection turns out closed, and for a POST that is a retry the
  // caller did not decide on (nor give a fresh X-Request-ID).
  curl_easy_setopt(handle_, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(handle_, CURLOPT_COPYPOSTFIELDS, req.body.c_str());
  if (req.method != "POST") curl_easy_setopt(handle_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
}

Result<HttpResponse> CurlClient::Send(const HttpRequest& req) {
  Status allowed = CheckUrlAllowed(req.url);
  if (!allowed.ok()) return allowed;
  if (!options_.ca_file.empty() && ::access(options_.ca_file.c_str(), R_OK) != 0) {
    return Status::Config("CA file " + options_.ca_file + " does not exist or cannot be read");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (handle_ == nullptr) handle_ = curl_easy_init();
  if (handle_ == nullptr) return Status::Internal("libcurl could not create a handle");
  curl_easy_reset(handle_);

  HttpResponse resp;
  resp.request_id = RandomHex(12);
  char errbuf[CURL_ERROR_SIZE] = {0};
  bool is_https = SplitUrl(req.url)->scheme == "https";
  const char* protocols = is_https ? "https" : "http,https";
  curl_easy_setopt(handle_, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(handle_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options_.connect_timeout_s));
  curl_easy_setopt(handle_, CURLOPT_TIMEOUT, static_cast<long>(options_.timeout_s));
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(handle_, CURLOPT_USERAGENT, "ncbocr/" NCBOCR_VERSION);
  curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(handle_, CURLOPT_HEADERDATA, &resp.headers);
  SetTls();
  SetMethod(req);

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : req.headers) {
    if (AsciiLower(name) == "x-request-id") continue;  // ours, fresh per attempt
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers, ("X-Request-ID: " + resp.request_id).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers);

  auto t0 = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(handle_);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  curl_slist_free_all(headers);
  curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, nullptr);

  if (rc == CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &code);
    resp.status = static_cast<int>(code);
    log_->debug("HTTP {} {} -> {} in {} ms (request {})", req.method, RedactUrl(req.url), resp.status,
                ms.count(), resp.request_id);
    return resp;
  }
  // A half-received answer is no answer: the caller must treat it as lost.
  resp.status = 0;
  resp.body.clear();
  resp.transport = Classify(rc);
  resp.error = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
  if (rc == CURLE_WRITE_ERROR) resp.error = "response larger than the 64 MiB limit";
  if (resp.transport == TransportError::kTls) {
    resp.error += " (TLS: is the server's CA trusted? a private CA needs its file configured, e.g. ncb.ca_file)";
  }
  log_->debug("HTTP {} {} -> no response after {} ms (request {}): {}", req.method, RedactUrl(req.url),
              ms.count(), resp.request_id, resp.error);
  return resp;
}

}  // namespace


int HttpResponse::RetryAfter() const {
  auto it = headers.find("retry-after");
  if (it == headers.end()) return 0;
  return ParseRetryAfter(it->second, std::chrono::system_clock::now()).value_or(0);
}

std::unique_ptr<HttpClient> MakeCurlClient(const HttpOptions& options, Logger log) {
  return std::make_unique<CurlClient>(options, log ? log : NullLogger());
}

std::optional<int> ParseRetryAfter(const std::string& value, std::chrono::system_clock::time_point now) {
  std::string v = Trim(value);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (v.size() > 9) return 999999999;  // absurd, but a number: "a very long time"
    return std::stoi(v);
  }
  // HTTP-date: IMF-fixdate, then the obsolete RFC 850 and asctime forms
  // (RFC 9110 5.6.7), all in GMT. strptime's names are the C locale's.
  static const char* kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                   "%a %b %d %H:%M:%S %Y"};
  for (const char* f : kFormats) {
    std::tm tm{};
    const char* end = ::strptime(v.c_str(), f, &tm);
    if (end == nullptr || *end != '\0') continue;
    // In seconds, not as a time_point: a date centuries away (any year
    // strptime reads) would overflow system_clock's nanoseconds.
    long long secs = static_cast<long long>(::timegm(&tm)) -
                     static_cast<long long>(std::chrono::system_clock::to_time_t(now));
    return secs <= 0 ? 0 : static_cast<int>(std::min<long long>(secs, 999999999));
  }
  return std::nullopt;
}

bool IsRetryableStatus(int status) { return status == 0 || status == 429 || status >= 500; }

std::chrono::milliseconds RetryDelay(int attempt, const HttpOptions& options, int retry_after_s) {
  using std::chrono::milliseconds;
  const double ms = DoublingDelay(attempt, static_cast<double>(options.backoff_base.count()),
                                  static_cast<double>(options.backoff_cap.count()));
  // Jitter keeps many clients that failed together from retrying together.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  auto d = milliseconds(static_cast<long long>(ms * jitter(rng)));
  return std::max(d, milliseconds(static_cast<long long>(retry_after_s) * 1000));
}

Result<HttpResponse> SendWithRetry(HttpClient& client, const HttpRequest& req, const HttpOptions& options,
                                   Logger log) {
  if (!log) log = NullLogger();
  Status allowed = CheckUrlAllowed(req.url);
  if (!allowed.ok()) return allowed;
  int attempts = std::max(1, options.max_attempts);
  for (int attempt = 1;; ++attempt) {
    auto r = client.Send(req);
    if (!r.ok() || !IsRetryableStatus(r->status) || attempt >= attempts) return r;
    int retry_after = r->RetryAfter();
    if (std::chrono::seconds(retry_after) > options.backoff_cap) {
      log->info("{} asks to wait {} s; not waiting that long in-process", RedactUrl(req.url), retry_after);
      return r;
    }
    auto delay = RetryDelay(attempt, options, retry_after);
    log->debug("HTTP {} {}: attempt {} of {} got {}; retrying in {} ms", req.method, RedactUrl(req.url),
               attempt, attempts, r->status == 0 ? r->error : std::to_string(r->status), delay.count());
    if (options.sleep) {
      options.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace ncbocr
