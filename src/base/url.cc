#include "ncbocr/url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <memory>

#include "ncbocr/util.h"

namespace ncbocr {

std::optional<UrlParts> SplitUrl(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> h(curl_url(), curl_url_cleanup);
  if (!h || curl_url_set(h.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return std::nullopt;
  auto get = [&](CURLUPart part) -> std::optional<std::string> {
    char* v = nullptr;
    if (curl_url_get(h.get(), part, &v, 0) != CURLUE_OK || v == nullptr) return std::nullopt;
    std::string s(v);
    curl_free(v);
    return s;
  };
  UrlParts u;
  u.scheme = AsciiLower(get(CURLUPART_SCHEME).value_or(""));
  std::optional<std::string> host = get(CURLUPART_HOST);
  if (u.scheme.empty() || !host || host->empty()) return std::nullopt;
  u.authority = *host;
  if (std::optional<std::string> port = get(CURLUPART_PORT)) u.authority += ":" + *port;
  if (host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  u.host = AsciiLower(*host);
  u.path = get(CURLUPART_PATH).value_or("");
  if (u.path == "/" && url.find('/', url.find("://") + 3) == std::string::npos) u.path.clear();
  u.query = get(CURLUPART_QUERY).value_or("");
  return u;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool IsLoopbackUrl(const std::string& url) {
  auto u = SplitUrl(url);
  if (!u || (u->scheme != "http" && u->scheme != "https")) return false;
  return IsLoopbackHost(u->host);
}

Status CheckUrlAllowed(const std::string& url) {
  auto u = SplitUrl(url);
  if (!u) return Status::Config("'" + RedactUrl(url) + "' is not a URL");
  if (u->scheme == "https") return Status::Ok();
  if (u->scheme == "http") {
    if (IsLoopbackHost(u->host)) return Status::Ok();
    return Status::Config("refusing plain http:// to " + u->host +
                          ": data must travel over TLS to any host that is not loopback; use https://");
  }
  return Status::Config("'" + u->scheme + "://' URLs are not supported here; use https://");
}

std::string RedactUrl(const std::string& url) {
  auto u = SplitUrl(url);
  if (!u) return "(not a URL)";
  std::string out = u->scheme + "://" + u->authority + u->path;
  if (u->query.empty()) return out;
  out += '?';
  size_t start = 0;
  while (start <= u->query.size()) {
    size_t amp = u->query.find('&', start);
    std::string param = u->query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (start > 0) out += '&';
    out += param.substr(0, param.find('=')) + (param.find('=') == std::string::npos ? "" : "=***");
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

std::string UrlEncode(const std::string& s) {
  // libcurl's escaping: everything but RFC 3986's unreserved characters.
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  if (e == nullptr) return {};
  std::string out(e);
  curl_free(e);
  return out;
}

}  // namespace ncbocr
