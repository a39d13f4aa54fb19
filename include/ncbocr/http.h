// HTTP: the one way ncbocr talks to web services (NCB, Google, token endpoints).
//
// Backed by libcurl. TLS verification is always on; a CA file can be added for
// private CAs; plain http:// is refused for any host that is not loopback.
// Every attempt gets a fresh X-Request-ID (logged, never with bodies). Retries
// with exponential backoff and jitter on 429, 5xx, timeouts and resets,
// honouring Retry-After, are done by SendWithRetry, so callers that must not
// retry (or retry through the spool instead) can call Send directly.
#ifndef NCBOCR_HTTP_H_
#define NCBOCR_HTTP_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ncbocr/log.h"
#include "ncbocr/status.h"
#include "ncbocr/url.h"

namespace ncbocr {

struct HttpRequest {
  std::string method = "GET";       // GET, POST, PUT, PATCH, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string body;
};

// Why an attempt got no response; lets callers tell "NCB is down" (connect)
// from "the answer was lost" (reset) and "fix the CA" (tls).
enum class TransportError { kNone, kConnect, kTimeout, kTls, kReset, kOther };

struct HttpResponse {
  int status = 0;                   // 0: no response (see error)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;                // transport error (timeout, reset, TLS...)
  TransportError transport = TransportError::kNone;
  std::string request_id;           // X-Request-ID sent with this attempt
  // Seconds from Retry-After (header), 0 if none.
  int RetryAfter() const;
};

struct HttpOptions {
  std::string ca_file;              // extra CA bundle for private CAs
  int connect_timeout_s = 10;
  int timeout_s = 60;
  int max_attempts = 4;             // for SendWithRetry
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30000};
  // How SendWithRetry waits; empty: really sleep. Tests record the delays.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // One attempt. A transport failure is a response with status 0 and error set.
  // A URL that is not https:// (or http:// to a loopback host) gives kConfig.
  virtual Result<HttpResponse> Send(const HttpRequest& req) = 0;
};

// The libcurl client. Proxy environment variables (https_proxy, no_proxy...)
// are honoured by libcurl itself. Redirects are not followed (they would carry
// the Authorization header elsewhere). options.ca_file is added to the system
// CA bundle, not put in its place, so a private CA for one service does not
// break verification of public ones. Safe to share between threads (calls
// are serialised; each client keeps one connection cache). Only GET and HEAD
// reuse connections: on a reused connection that the server closed, libcurl
// resends the request by itself, which must never happen to a POST.
std::unique_ptr<HttpClient> MakeCurlClient(const HttpOptions& options, Logger log);

// Sends req, retrying transient failures (status 0, 429, 5xx) up to
// options.max_attempts with backoff and jitter, waiting at least Retry-After.
// Returns the last response (which may still be a failure) or a kConfig error.
// A Retry-After longer than options.backoff_cap is not slept through: the
// response is returned at once so the caller can defer the work durably.
// Only for idempotent requests (or ones carrying an Idempotency-Key).
Result<HttpResponse> SendWithRetry(HttpClient& client, const HttpRequest& req,
                                   const HttpOptions& options, Logger log);

// A Retry-After value (delay-seconds or an HTTP-date) as seconds from now;
// a date in the past gives 0, garbage gives nullopt.
std::optional<int> ParseRetryAfter(const std::string& value,
                                   std::chrono::system_clock::time_point now);

// True for what SendWithRetry retries: no response, 429, 5xx.
bool IsRetryableStatus(int status);

// The wait before retry number `attempt` (1-based): base * 2^(attempt-1),
// capped, with jitter in [half, full], and never less than retry_after_s.
std::chrono::milliseconds RetryDelay(int attempt, const HttpOptions& options, int retry_after_s);

}  // namespace ncbocr

#endif  // NCBOCR_HTTP_H_
