// The Gmail consent flow behind `ncbocr auth gmail` (see google_auth.h).
//
// Google no longer offers a copy-the-code page for installed apps, so the
// redirect goes to a loopback listener. On a server without a browser the
// person opens the URL elsewhere; the redirect then fails in their browser,
// and they paste the address it ended on. Both ways are waited for at once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>

#include "ncbocr/google_auth.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

// The query parameters of a URL or of a bare "a=1&b=2".
std::map<std::string, std::string> QueryParams(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t q = text.find('?');
  std::string query = q == std::string::npos ? text : text.substr(q + 1);
  query = query.substr(0, query.find('#'));
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) out[PercentDecode(kv.substr(0, eq), true)] = PercentDecode(kv.substr(eq + 1), true);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

class Listener {
 public:
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Status::Io("cannot open a socket for the OAuth redirect");
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return Status::Io("cannot listen on 127.0.0.1:" + std::to_string(port) + " for the OAuth redirect");
    }
    port_ = ntohs(addr.sin_port);
    return Status::Ok();
  }
  int fd() const { return fd_; }
  int port() const { return port_; }

  // Reads one request; returns its target ("/?code=..."), answering the browser.
  std::string Serve() {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return "";
    std::string req;
    char buf[2048];
    while (req.find("\r\n") == std::string::npos && req.size() < 16384) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) break;  // a browser that opens and says nothing
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string line = req.substr(0, req.find("\r\n"));
    std::string target;
    if (line.rfind("GET ", 0) == 0) target = line.substr(4, line.rfind(' ') - 4);
    bool ours = target.find("code=") != std::string::npos || target.find("error=") != std::string::npos;
    std::string body = ours ? "ncbocr: authorisation received; you can close this page.\n" : "not found\n";
    std::string resp = std::string(ours ? "HTTP/1.1 200 OK" : "HTTP/1.1 404 Not Found") +
                       "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    ssize_t w = ::write(c, resp.data(), resp.size());
    (void)w;
    ::close(c);
    return ours ? target : "";
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Waits for the redirect or a pasted line; returns the parameters it carried.
Result<std::map<std::string, std::string>> AwaitCode(Listener& listener, std::FILE* in,
                                                     std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool stdin_open = in != nullptr;
  std::string pasted;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fds[2] = {{listener.fd(), POLLIN, 0}, {stdin_open ? ::fileno(in) : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, 1000);
    if (n < 0 && errno != EINTR) return Status::Io("cannot wait for the OAuth redirect");
    if (n <= 0) continue;
    if (fds[0].revents & POLLIN) {
      std::string target = listener.Serve();
      if (!target.empty()) return QueryParams(target);
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char buf[4096];
      ssize_t r = ::read(fds[1].fd, buf, sizeof buf);
      if (r <= 0) {
        stdin_open = false;  // EOF: only the listener is left
        continue;
      }
      pasted.append(buf, static_cast<size_t>(r));
      size_t nl = pasted.find('\n');
      if (nl == std::string::npos) continue;
      std::string line = Trim(pasted.substr(0, nl));
      pasted.erase(0, nl + 1);
      if (line.empty()) continue;
      if (line.find("code=") != std::string::npos || line.find("error=") != std::string::npos) {
        return QueryParams(line);
      }
      return std::map<std::string, std::string>{{"code", line}};
    }
  }
  return Status::Transient("no authorisation arrived within " + std::to_string(timeout.count()) + "s");
}

}  // namespace

Status AuthoriseGmail(const Config& config, std::FILE* in, std::FILE* out,
                      const ConsentOptions& options, Logger log) {
  const GmailConfig& g = config.gmail;
  if (g.token_path.empty()) return Status::Config("gmail.token_path is not set: where should the token go?");
  auto text = ReadSecretFile(g.credentials_path, "Gmail OAuth client");
  if (!text.ok()) return text.status();
  auto client = ParseOAuthClient(*text);
  if (!client.ok()) return client.status().WithContext(g.credentials_path);
  Status s = CheckUrlAllowed(client->token_uri);
  if (!s.ok()) return s.WithContext("token_uri of " + g.credentials_path);

  Listener listener;
  s = listener.Open(options.port);
  if (!s.ok()) return s;
  std::string redirect = "http://127.0.0.1:" + std::to_string(listener.port()) + "/";
  std::string state = RandomHex(16);
  std::string verifier = RandomHex(32);  // 64 characters: within PKCE's 43..128
  std::vector<std::string> scopes = {kGmailScope};
  std::fprintf(out,
               "Open this address in a browser, signed in as the claims mailbox, and allow access:\n\n"
               "  %s\n\n"
               "If the browser runs on this machine, that is all. If it runs elsewhere, the page it\n"
               "ends on will not load: copy that page's whole address from the address bar and\n"
               "paste it here, then press Enter.\n",
               ConsentUrl(*client, scopes, redirect, state, PkceChallenge(verifier)).c_str());
  std::fflush(out);

  auto params = AwaitCode(listener, in, options.timeout);
  if (!params.ok()) return params.status();
  if (params->count("error")) {
    return Status::Credentials("Google did not grant access: " + params->at("error"));
  }
  if (params->count("state") && params->at("state") != state) {
    return Status::Credentials("the authorisation answer is not for this request (state mismatch); start again");
  }
  if (!params->count("code") || params->at("code").empty()) {
    return Status::Usage("no authorisation code found in what was pasted");
  }
  HttpOptions http_options;
  auto http = MakeCurlClient(http_options, log);
  auto user = ExchangeAuthCode(*http, http_options, *client, params->at("code"), redirect, verifier,
                               scopes, std::chrono::system_clock::now());
  if (!user.ok()) return user.status();
  s = MakeDirs(fs::path(g.token_path).parent_path(), 0700);
  if (s.ok()) s = AtomicWriteFile(g.token_path, AuthorizedUserJson(*user), 0600);
  if (!s.ok()) return s;
  std::fprintf(out, "Gmail token written to %s (mode 0600).\n", g.token_path.c_str());
  return Status::Ok();
}

}  // namespace ncbocr
