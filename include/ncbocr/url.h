// URL policy: which URLs ncbocr may send data to, and how a URL may appear in
// a log. Part of the base layer (with status, util, log, config and clock):
// the configuration loader checks URLs with it before any network code runs.
//
// The rule: https:// to any host; plain http:// only to a loopback host
// (localhost, 127.0.0.0/8, ::1), where the project's test doubles and local
// relays live. URLs are split by libcurl's own URL API, so the policy judges
// the very host and scheme the HTTP client will connect to (two parsers that
// disagree on a crafted URL such as "https://a@b:c@d/" are how such checks
// get bypassed).
#ifndef NCBOCR_URL_H_
#define NCBOCR_URL_H_

#include <optional>
#include <string>

#include "ncbocr/status.h"

namespace ncbocr {

struct UrlParts {
  std::string scheme;     // lower case
  std::string authority;  // host[:port], without user info
  std::string host;       // lower case, IPv6 without brackets
  std::string path;       // from the first '/' up to '?' or '#'
  std::string query;      // without '?'
};

// The parts of an absolute URL; nullopt when it has no scheme or no host.
std::optional<UrlParts> SplitUrl(const std::string& url);

// True for a host name that is localhost, an address in 127.0.0.0/8, or ::1
// (by parsing, so "127.evil.example" is not loopback).
bool IsLoopbackHost(const std::string& host);

// True for http(s) URLs whose host is localhost, 127.0.0.0/8 or ::1.
bool IsLoopbackUrl(const std::string& url);

// Ok for https://, or http:// to a loopback host. Otherwise kConfig with a
// one-line reason that names the host (never the URL's user info or query).
Status CheckUrlAllowed(const std::string& url);

// Percent-encodes for a URL query value or path segment (RFC 3986 unreserved kept).
std::string UrlEncode(const std::string& s);

// The URL as it may appear in a log: no user:password, query values replaced
// by "***" (API keys and tokens travel there), no fragment. "(not a URL)"
// when it cannot be split.
std::string RedactUrl(const std::string& url);

}  // namespace ncbocr

#endif  // NCBOCR_URL_H_
