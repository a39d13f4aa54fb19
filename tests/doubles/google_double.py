#!/usr/bin/env python3
"""A test double of the Google services ncbocr talks to, on one loopback port.

Serves, as far as ncbocr uses them and as Google documents them:
  POST /token                         OAuth token endpoint: refresh_token,
                                      authorization_code (with PKCE S256) and
                                      jwt-bearer grants (RS256 signature checked
                                      with `openssl` against --public-key)
  GET  /o/oauth2/auth                 consent page: redirects to redirect_uri
                                      with a code, as if the person agreed
  /gmail/v1/users/{u}/messages        list (q, pagination), get format=raw,
                                      modify; /labels list and create
  /gmail/v1/users/{u}/profile         getProfile (validate-credentials)
  /drive/v3/files                     list (q forms: name/parents/mimeType/
                                      trashed, appProperties has {...}), create
  /drive/v3/files/{id}                get (driveId from --shared-drive-id)
  /upload/drive/v3/files              multipart/related and resumable uploads
  /v4/spreadsheets/{id}               get, :batchUpdate addSheet, values get /
                                      update / append (valueInputOption=RAW)
Errors are Google's JSON {"error": {"code", "message", "status"}}; an expired
or unknown access token gets 401; a call without the API's scope gets 403.
Requests Google would treat differently from what ncbocr needs (no
supportsAllDrives on a shared-drive item, values written without RAW) are
refused and recorded in state["violations"].

Control (never subject to faults):
  POST /_control/messages   {"messages": [{"raw_b64": "..."}]}: add mail
  POST /_control/fault      {"method", "path" (regex), "status", "count",
                             "retry_after", "after"}: the next `count`
                             matching requests answer `status`; with
                             "after": true the request is carried out first
                             and only the answer is lost
  POST /_control/expire_tokens   every access token now gets 401; with
                                 {"older_than": S} only those issued more
                                 than S seconds ago (a revocation in the
                                 life of a token in use, not at its birth)
  POST /_control/revoke          refresh tokens now get invalid_grant
  GET  /_control/state           everything, for assertions

Usage: google_double.py [--public-key PEM] [--refresh-token T] [--client-id C]
  [--client-secret S] [--drive-root ID] [--spreadsheet ID] [--page-size N]
Prints the port on stdout when ready. Python 3 standard library only.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.modify"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
FOLDER = "application/vnd.google-apps.folder"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class ApiError(Exception):
    def __init__(self, code, status, message, headers=None):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message
        self.headers = headers or {}


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def col_index(letters):
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch.upper()) - 64)
    return n - 1


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.args = args
        self.port = 0
        self.tokens = {}          # access token -> {"scopes": set, "expires": t}
        self.refresh_tokens = {}  # refresh token -> scopes
        if args.refresh_token:
            self.refresh_tokens[args.refresh_token] = [GMAIL_SCOPE]
        self.codes = {}           # auth code -> {challenge, redirect_uri, scopes}
        self.grants = {"refresh_token": 0, "authorization_code": 0, "jwt_bearer": 0}
        self.jwt_subjects = []
        self.faults = []
        self.violations = []
        self.requests = []
        self.messages = {}        # id -> {raw, labelIds, internalDate}
        self.labels = [{"id": l, "name": l, "type": "system"}
                       for l in ("INBOX", "UNREAD", "SENT", "TRASH", "SPAM")]
        self.files = {}
        self.created_seq = 0
        self.sessions = {}        # upload id -> {meta, total, data}
        self.sheets = {}          # spreadsheet id -> {title -> rows}
        if args.drive_root:
            self.files[args.drive_root] = self.new_file(
                {"name": "ncbocr archive", "mimeType": FOLDER, "parents": []},
                fid=args.drive_root)
        if args.spreadsheet:
            self.sheets[args.spreadsheet] = {"Sheet1": []}

    def new_file(self, meta, fid=None, content=b""):
        self.created_seq += 1
        fid = fid or secrets.token_hex(12)
        return {
            "id": fid, "name": meta.get("name", "Untitled"),
            "mimeType": meta.get("mimeType", "application/octet-stream"),
            "parents": list(meta.get("parents", [])),
            "appProperties": dict(meta.get("appProperties", {})),
            # A sequence keeps "oldest first" exact when two land in one tick.
            "createdTime": "2024-01-01T00:00:00.%06dZ" % self.created_seq,
            "trashed": False, "size": str(len(content)),
            "sha256": hashlib.sha256(content).hexdigest(),
            "webViewLink": "https://drive.google.com/file/d/%s/view" % fid,
        }

    def dump(self):
        return {
            "gmail": {"messages": [{"id": k, "labelIds": v["labelIds"],
                                    "has_attachment": has_attachment(v["raw"])}
                                   for k, v in self.messages.items()],
                      "labels": self.labels},
            "drive": {"files": list(self.files.values())},
            "sheets": self.sheets,
            "grants": self.grants,
            "jwt_subjects": self.jwt_subjects,
            "faults_left": self.faults,
            "violations": self.violations,
            "requests": self.requests,
        }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "google-double/1"

    def log_message(self, fmt, *a):  # quiet: tests read state, not logs
        pass

    # ---------------------------------------------------------------- plumbing
    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def body_bytes(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, code, obj=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, e):
        self.reply(e.code, {"error": {"code": e.code, "message": e.message, "status": e.status}},
                   e.headers)

    def dispatch(self, method):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = self.body_bytes()
        if path.startswith("/_control/"):
            with st.lock:
                return self.control(method, path, body)
        with st.lock:
            st.requests.append({"method": method, "path": path})
            fault = self.take_fault(method, path)
        if fault and not fault.get("after"):
            return self.fault_reply(fault)
        try:
            with st.lock:
                code, obj, headers = self.route(method, path, query, body)
        except ApiError as e:
            return self.error(e)
        if fault:
            return self.fault_reply(fault)  # done, but the answer is lost
        self.reply(code, obj, headers)

    def take_fault(self, method, path):
        for f in self.server.state.faults:
            if f["count"] > 0 and f.get("method", method) == method and re.search(f["path"], path):
                f["count"] -= 1
                return f
        return None

    def fault_reply(self, f):
        status = int(f.get("status", 500))
        headers = {}
        if f.get("retry_after") is not None:
            headers["Retry-After"] = str(f["retry_after"])
        names = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 401: "UNAUTHENTICATED"}
        self.error(ApiError(status, names.get(status, "UNKNOWN"), "injected fault", headers))

    def control(self, method, path, body):
        st = self.server.state
        req = json.loads(body or b"{}")
        if path == "/_control/state":
            return self.reply(200, st.dump())
        if path == "/_control/messages":
            base = int(time.time() * 1000)
            for i, m in enumerate(req["messages"]):
                mid = m.get("id") or secrets.token_hex(8)
                raw = base64.b64decode(m["raw_b64"])
                st.messages[mid] = {"raw": raw, "labelIds": ["INBOX", "UNREAD"],
                                    "internalDate": str(m.get("internalDate", base + i))}
            return self.reply(200, {"count": len(st.messages)})
        if path == "/_control/fault":
            req.setdefault("count", 1)
            st.faults.append(req)
            return self.reply(200, {"faults": len(st.faults)})
        if path == "/_control/expire_tokens":
            cutoff = time.time() - float(req.get("older_than", 0))
            for t in st.tokens.values():
                if t.get("issued", 0) <= cutoff:
                    t["expires"] = 0
            return self.reply(200, {})
        if path == "/_control/revoke":
            st.refresh_tokens.clear()
            return self.reply(200, {})
        return self.reply(404, {"error": "no such control"})

    # ---------------------------------------------------------------- routing
    def route(self, method, path, q, body):
        if path == "/token" and method == "POST":
            return self.token(body)
        if path == "/o/oauth2/auth" and method == "GET":
            return self.consent(q)
        m = re.fullmatch(r"/gmail/v1/users/([^/]+)/(.*)", path)
        if m:
            self.authorize(GMAIL_SCOPE)
            return self.gmail(method, m.group(2), q, body)
        if path.startswith("/drive/v3/files") or path.startswith("/upload/drive/v3/files"):
            self.authorize(DRIVE_SCOPE)
            return self.drive(method, path, q, body)
        m = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(:batchUpdate|/values/(.+))?", path)
        if m:
            self.authorize(SHEETS_SCOPE)
            return self.sheets(method, m, q, body)
        raise ApiError(404, "NOT_FOUND", "no such endpoint: " + path)

    def authorize(self, scope):
        st = self.server.state
        auth = self.headers.get("Authorization", "")
        tok = st.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if tok is None or tok["expires"] < time.time():
            raise ApiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if scope not in tok["scopes"]:
            raise ApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")

    # ---------------------------------------------------------------- OAuth
    def issue(self, scopes, expires_in=3600):
        tok = "ya29.double-" + secrets.token_urlsafe(16)
        self.server.state.tokens[tok] = {"scopes": set(scopes), "expires": time.time() + expires_in,
                                           "issued": time.time()}
        return {"access_token": tok, "expires_in": expires_in, "token_type": "Bearer",
                "scope": " ".join(scopes)}

    def token_error(self, error, desc, code=400):
        return code, {"error": error, "error_description": desc}, {}

    def token(self, body):
        st = self.server.state
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if (st.args.client_id and form.get("client_id") != st.args.client_id) or \
               (st.args.client_secret and form.get("client_secret") != st.args.client_secret):
                return self.token_error("invalid_client", "The OAuth client was not found.", 401)
            scopes = st.refresh_tokens.get(form.get("refresh_token"))
            if scopes is None:
                return self.token_error("invalid_grant", "Token has been expired or revoked.")
            st.grants["refresh_token"] += 1
            return 200, self.issue(scopes), {}
        if grant == "authorization_code":
            c = st.codes.pop(form.get("code"), None)
            if c is None or c["redirect_uri"] != form.get("redirect_uri"):
                return self.token_error("invalid_grant", "Malformed auth code.")
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if digest.decode() != c["challenge"]:
                return self.token_error("invalid_grant", "Invalid code verifier.")
            st.grants["authorization_code"] += 1
            refresh = "1//double-" + secrets.token_urlsafe(16)
            st.refresh_tokens[refresh] = c["scopes"]
            out = self.issue(c["scopes"])
            out["refresh_token"] = refresh
            return 200, out, {}
        if grant == JWT_GRANT:
            return self.jwt_grant(form.get("assertion", ""))
        return self.token_error("unsupported_grant_type", "Invalid grant_type: %s" % grant)

    def jwt_grant(self, assertion):
        st = self.server.state
        parts = assertion.split(".")
        if len(parts) != 3:
            return self.token_error("invalid_grant", "Invalid JWT: not three segments")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except ValueError:
            return self.token_error("invalid_grant", "Invalid JWT: bad encoding")
        now = time.time()
        expected_aud = "http://127.0.0.1:%d/token" % st.port
        problems = []
        if header.get("alg") != "RS256" or header.get("typ") != "JWT":
            problems.append("header must be RS256 JWT")
        if claims.get("aud") != expected_aud:
            problems.append("aud must be the token endpoint")
        if not claims.get("iss") or not claims.get("scope"):
            problems.append("iss and scope are required")
        iat, exp = claims.get("iat", 0), claims.get("exp", 0)
        if not (iat - 300 <= now <= exp + 300) or exp - iat > 3600:
            problems.append("Invalid JWT: Token must be a short-lived token (60 minutes)")
        if st.args.public_key and not self.signature_ok(parts[0] + "." + parts[1], sig):
            problems.append("Invalid JWT Signature.")
        if problems:
            return self.token_error("invalid_grant", "; ".join(problems))
        st.grants["jwt_bearer"] += 1
        st.jwt_subjects.append(claims.get("sub", ""))
        return 200, self.issue(claims["scope"].split(" ")), {}

    def signature_ok(self, signing_input, sig):
        with tempfile.TemporaryDirectory() as d:
            data, sigf = os.path.join(d, "data"), os.path.join(d, "sig")
            open(data, "wb").write(signing_input.encode())
            open(sigf, "wb").write(sig)
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.server.state.args.public_key,
                                "-signature", sigf, data], capture_output=True)
            return r.returncode == 0

    def consent(self, q):
        st = self.server.state
        one = {k: v[0] for k, v in q.items()}
        if one.get("code_challenge_method") != "S256" or one.get("access_type") != "offline":
            raise ApiError(400, "INVALID_ARGUMENT", "PKCE S256 and access_type=offline expected")
        code = "4/double-" + secrets.token_urlsafe(12)
        st.codes[code] = {"challenge": one.get("code_challenge"), "redirect_uri": one.get("redirect_uri"),
                          "scopes": one.get("scope", "").split(" ")}
        sep = "&" if "?" in one["redirect_uri"] else "?"
        loc = one["redirect_uri"] + sep + urllib.parse.urlencode({"code": code, "state": one.get("state", "")})
        return 302, {}, {"Location": loc}

    # ---------------------------------------------------------------- Gmail
    def label_ids_named(self, name):
        return [l["id"] for l in self.server.state.labels if l["name"].lower() == name.lower()]

    def matches(self, msg, query):
        for term in query.split():
            neg = term.startswith("-")
            term = term[1:] if neg else term
            if term == "has:attachment":
                hit = has_attachment(msg["raw"])
            elif term.startswith("label:"):
                ids = self.label_ids_named(term[6:])
                hit = any(i in msg["labelIds"] for i in ids)
            else:
                raise ApiError(400, "INVALID_ARGUMENT", "query term not supported by the double: " + term)
            if hit == neg:
                return False
        return True

    def gmail(self, method, rest, q, body):
        st = self.server.state
        one = {k: v[0] for k, v in q.items()}
        if rest == "messages" and method == "GET":
            ids = sorted((m for m in st.messages if self.matches(st.messages[m], one.get("q", ""))),
                         key=lambda m: int(st.messages[m]["internalDate"]), reverse=True)
            size = min(int(one.get("maxResults", 100)), st.args.page_size)
            start = int(one.get("pageToken") or 0)
            page = ids[start:start + size]
            out = {"messages": [{"id": i, "threadId": i} for i in page], "resultSizeEstimate": len(ids)}
            if not page:
                out = {"resultSizeEstimate": 0}
            if start + size < len(ids):
                out["nextPageToken"] = str(start + size)
            return 200, out, {}
        m = re.fullmatch(r"messages/([^/]+)(/modify)?", rest)
        if m:
            msg = st.messages.get(m.group(1))
            if msg is None:
                raise ApiError(404, "NOT_FOUND", "Requested entity was not found.")
            if m.group(2) and method == "POST":
                req = json.loads(body or b"{}")
                known = {l["id"] for l in st.labels}
                for lid in req.get("addLabelIds", []) + req.get("removeLabelIds", []):
                    if lid not in known:
                        raise ApiError(400, "INVALID_ARGUMENT", "Invalid label: " + lid)
                msg["labelIds"] = [l for l in msg["labelIds"] if l not in req.get("removeLabelIds", [])]
                msg["labelIds"] += [l for l in req.get("addLabelIds", []) if l not in msg["labelIds"]]
                return 200, {"id": m.group(1), "labelIds": msg["labelIds"]}, {}
            if method == "GET":
                if one.get("format") != "raw":
                    raise ApiError(400, "INVALID_ARGUMENT", "the double serves format=raw only")
                return 200, {"id": m.group(1), "threadId": m.group(1), "labelIds": msg["labelIds"],
                             "sizeEstimate": len(msg["raw"]), "internalDate": msg["internalDate"],
                             "raw": base64.urlsafe_b64encode(msg["raw"]).decode()}, {}
        if rest == "profile" and method == "GET":
            return 200, {"emailAddress": "claims@example.com", "messagesTotal": len(st.messages),
                         "threadsTotal": len(st.messages), "historyId": "1"}, {}
        if rest == "labels" and method == "GET":
            return 200, {"labels": st.labels}, {}
        if rest == "labels" and method == "POST":
            req = json.loads(body or b"{}")
            if self.label_ids_named(req.get("name", "")):
                raise ApiError(409, "ABORTED", "Label name exists or conflicts")
            label = {"id": "Label_%d" % (len(st.labels) + 1), "name": req["name"], "type": "user"}
            st.labels.append(label)
            return 200, label, {}
        raise ApiError(404, "NOT_FOUND", "no such Gmail endpoint: " + rest)

    # ---------------------------------------------------------------- Drive
    def require_all_drives(self, q):
        if q.get("supportsAllDrives", [""])[0] != "true":
            self.server.state.violations.append("Drive call without supportsAllDrives=true: " + self.path)
            raise ApiError(404, "NOT_FOUND", "File not found: shared drive item without supportsAllDrives")

    def drive(self, method, path, q, body):
        st = self.server.state
        self.require_all_drives(q)
        one = {k: v[0] for k, v in q.items()}
        if path == "/drive/v3/files" and method == "GET":
            if one.get("corpora") == "allDrives" and one.get("includeItemsFromAllDrives") != "true":
                raise ApiError(400, "INVALID_ARGUMENT", "includeItemsFromAllDrives is required")
            preds = parse_drive_query(one.get("q", ""))
            found = [f for f in st.files.values() if all(p(f) for p in preds)]
            if one.get("orderBy") == "createdTime":
                found.sort(key=lambda f: f["createdTime"])
            return 200, {"files": found[: int(one.get("pageSize", 100))]}, {}
        m = re.fullmatch(r"/drive/v3/files/([^/]+)", path)
        if m and method == "GET":  # files.get: every item lives in the double's shared drive
            f = st.files.get(m.group(1))
            if f is None or f["trashed"]:
                raise ApiError(404, "NOT_FOUND", "File not found: %s." % m.group(1))
            return 200, dict(f, driveId=st.args.shared_drive_id), {}
        if path == "/drive/v3/files" and method == "POST":
            meta = json.loads(body or b"{}")
            f = self.store(meta, b"")
            return 200, f, {}
        if path == "/upload/drive/v3/files" and method == "POST":
            kind = one.get("uploadType")
            if kind == "multipart":
                meta, content = parse_multipart(self.headers.get("Content-Type", ""), body)
                return 200, self.store(meta, content), {}
            if kind == "resumable":
                meta = json.loads(body or b"{}")
                sid = secrets.token_hex(8)
                st.sessions[sid] = {"meta": meta, "data": b"",
                                    "total": int(self.headers.get("X-Upload-Content-Length") or -1)}
                loc = "http://127.0.0.1:%d/upload/drive/v3/files?uploadType=resumable&supportsAllDrives=true&upload_id=%s" % (st.port, sid)
                return 200, {}, {"Location": loc}
        if path == "/upload/drive/v3/files" and method == "PUT":
            return self.resume(one, body)
        raise ApiError(404, "NOT_FOUND", "no such Drive endpoint")

    def store(self, meta, content):
        st = self.server.state
        for p in meta.get("parents", []):
            if p not in st.files or st.files[p]["mimeType"] != FOLDER:
                raise ApiError(404, "NOT_FOUND", "File not found: %s." % p)
        f = st.new_file(meta, content=content)
        st.files[f["id"]] = f
        return f

    def resume(self, one, body):
        st = self.server.state
        s = st.sessions.get(one.get("upload_id"))
        if s is None:
            raise ApiError(404, "NOT_FOUND", "upload session not found")
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", self.headers.get("Content-Range", ""))
        if not m or int(m.group(3)) != s["total"] or int(m.group(2)) - int(m.group(1)) + 1 != len(body):
            raise ApiError(400, "INVALID_ARGUMENT", "bad Content-Range")
        if int(m.group(1)) == len(s["data"]):
            s["data"] += body
        if len(s["data"]) < s["total"]:
            return 308, {}, {"Range": "bytes=0-%d" % (len(s["data"]) - 1)}
        del st.sessions[one["upload_id"]]
        return 200, self.store(s["meta"], s["data"]), {}

    # ---------------------------------------------------------------- Sheets
    def sheets(self, method, m, q, body):
        st = self.server.state
        book = st.sheets.get(m.group(1))
        if book is None:
            raise ApiError(404, "NOT_FOUND", "Requested entity was not found.")
        one = {k: v[0] for k, v in q.items()}
        if m.group(2) is None and method == "GET":
            return 200, {"spreadsheetId": m.group(1), "sheets": [
                {"properties": {"sheetId": i, "title": t, "index": i}} for i, t in enumerate(book)]}, {}
        if m.group(2) == ":batchUpdate" and method == "POST":
            replies = []
            for r in json.loads(body)["requests"]:
                title = r["addSheet"]["properties"]["title"]
                if title in book:
                    raise ApiError(400, "INVALID_ARGUMENT", 'Invalid requests[0].addSheet: A sheet with the name "%s" already exists. Please enter another name.' % title)
                book[title] = []
                replies.append({"addSheet": {"properties": {"title": title, "sheetId": len(book)}}})
            return 200, {"spreadsheetId": m.group(1), "replies": replies}, {}
        rng = m.group(3)
        append = rng.endswith(":append")
        if append:
            rng = rng[: -len(":append")]
        tab, c0, r0, c1, r1 = parse_range(urllib.parse.unquote(rng), book)
        rows = book[tab]
        if method == "GET":
            sel = []
            last = len(rows) if r1 is None else min(r1 + 1, len(rows))
            for r in range(r0, last):
                cells = rows[r][c0:c1 + 1]
                while cells and cells[-1] == "":
                    cells = cells[:-1]
                sel.append(cells)
            while sel and not sel[-1]:
                sel.pop()
            out = {"range": urllib.parse.unquote(rng), "majorDimension": "ROWS"}
            if sel:
                out["values"] = sel
            return 200, out, {}
        if one.get("valueInputOption") != "RAW":
            st.violations.append("Sheets write without valueInputOption=RAW")
            raise ApiError(400, "INVALID_ARGUMENT", "valueInputOption must be RAW in this double")
        values = json.loads(body)["values"]
        if append:
            r0 = len(rows)
            while r0 > 0 and not any(rows[r0 - 1]):
                r0 -= 1
        for i, row in enumerate(values):
            while len(rows) <= r0 + i:
                rows.append([])
            cur = rows[r0 + i]
            while len(cur) < c0 + len(row):
                cur.append("")
            for j, v in enumerate(row):
                cur[c0 + j] = v if isinstance(v, str) else json.dumps(v)
        upd = {"updatedRows": len(values), "updatedRange": "'%s'!A%d" % (tab, r0 + 1)}
        return 200, ({"updates": upd} if append else upd), {}


def has_attachment(raw):
    return re.search(rb"(?im)^content-disposition:\s*attachment|filename=", raw) is not None


def parse_range(rng, book):
    m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^!']+))!([A-Z]+)(\d*)(?::([A-Z]+)(\d*))?", rng)
    if not m:
        raise ApiError(400, "INVALID_ARGUMENT", "Unable to parse range: " + rng)
    tab = (m.group(1) or "").replace("''", "'") or m.group(2)
    if tab not in book:
        raise ApiError(400, "INVALID_ARGUMENT", "Unable to parse range: " + rng)
    c0 = col_index(m.group(3))
    r0 = int(m.group(4)) - 1 if m.group(4) else 0
    c1 = col_index(m.group(5)) if m.group(5) else c0
    r1 = int(m.group(6)) - 1 if m.group(6) else (r0 if m.group(4) and not m.group(5) else None)
    return tab, c0, r0, c1, r1


LIT = r"'((?:[^'\\]|\\.)*)'"
CLAUSES = [
    (re.compile(r"name\s*=\s*" + LIT), lambda v: lambda f: f["name"] == v[0]),
    (re.compile(LIT + r"\s+in\s+parents"), lambda v: lambda f: v[0] in f["parents"]),
    (re.compile(r"mimeType\s*=\s*" + LIT), lambda v: lambda f: f["mimeType"] == v[0]),
    (re.compile(r"trashed\s*=\s*(true|false)"), lambda v: lambda f: f["trashed"] == (v[0] == "true")),
    (re.compile(r"appProperties\s+has\s*\{\s*key\s*=\s*" + LIT + r"\s+and\s+value\s*=\s*" + LIT + r"\s*\}"),
     lambda v: lambda f: f["appProperties"].get(v[0]) == v[1]),
]


def parse_drive_query(q):
    """The q forms ncbocr sends, joined by `and`; anything else is refused."""
    preds, pos = [], 0
    q = q.strip()
    while pos < len(q):
        for rx, make in CLAUSES:
            m = rx.match(q, pos)
            if m:
                vals = [re.sub(r"\\(.)", r"\1", g) for g in m.groups()]
                preds.append(make(vals))
                pos = m.end()
                break
        else:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid Value (q at %d)" % pos)
        a = re.compile(r"\s+and\s+").match(q, pos)
        if a:
            pos = a.end()
        elif pos < len(q):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid Value (q at %d)" % pos)
    return preds


def parse_multipart(ctype, body):
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.startswith("multipart/related") or not m:
        raise ApiError(400, "INVALID_ARGUMENT", "multipart/related with a boundary expected")
    delim = b"--" + m.group(1).encode()
    parts = body.split(delim)
    # ['', meta part, media part, '--\r\n']
    if len(parts) < 4 or not parts[-1].startswith(b"--"):
        raise ApiError(400, "INVALID_ARGUMENT", "malformed multipart body")
    out = []
    for p in parts[1:3]:
        head, _, content = p.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        out.append(content)
    return json.loads(out[0]), out[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--public-key")
    ap.add_argument("--refresh-token")
    ap.add_argument("--client-id")
    ap.add_argument("--client-secret")
    ap.add_argument("--drive-root")
    ap.add_argument("--spreadsheet")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--shared-drive-id", default="0ASHAREDDRIVE",
                    help="driveId files.get reports; empty: the items are in a My Drive")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(args)
    server.state.port = server.server_address[1]
    print(server.state.port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
