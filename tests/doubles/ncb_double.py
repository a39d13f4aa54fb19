#!/usr/bin/env python3
"""A test double of NCB's claims API, built from shared/ncb-api.md.

It checks what a real NCB checks (the bearer key, JSON, required fields and
their types, Claim Amount > 0 with exactly two decimals, ISO dates), keeps
accepted claims keyed by Idempotency-Key (a replay answers 200 with the same
reference) and can be told to misbehave:

    POST /_control {"fail_next": N, "status": 503}     next N calls answer status
    POST /_control {"rate_limit_next": N, "retry_after": 1}   429 + Retry-After
    POST /_control {"lose_response_next": N}   commit the claim (or take the
                                               replay), then drop the connection
                                               without an answer
    POST /_control {"duplicate_next": N}       409 DUPLICATE with a reference
    POST /_control {"reset": true}             forget claims, requests, faults
    GET  /_claims                              {"claims": [...], "requests": [...]}

The same faults can be set at start with flags. It binds 127.0.0.1 (port 0 by
default), prints the port on stdout when ready, and logs to stderr. With
--tls-cert/--tls-key it speaks HTTPS only. The control endpoints need no key:
the double is for tests on loopback, never for a network.
"""

import argparse
import datetime
import decimal
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.api_key = args.api_key
        self.allow_empty_invoice = args.allow_empty_invoice
        self.reset()
        self.faults.update(fail_next=args.fail_next, fail_status=args.fail_status,
                           rate_limit_next=args.rate_limit_next, retry_after=args.retry_after,
                           lose_response_next=args.lose_response_next)

    def reset(self):
        self.claims = {}      # Idempotency-Key -> {"reference", "body", "received_at"}
        self.requests = []    # every API call: method, path, ids, status
        self.next_ref = 1
        self.faults = {"fail_next": 0, "fail_status": 503, "rate_limit_next": 0,
                       "retry_after": 1, "lose_response_next": 0, "duplicate_next": 0}

    def take(self, name):
        """Consumes one of a counted fault; True if it applies to this call."""
        if self.faults.get(name, 0) > 0:
            self.faults[name] -= 1
            return True
        return False


def validate(body, allow_empty_invoice):
    """Returns (field, reason) for the first problem, or None."""
    def need_string(field, allow_empty=False):
        if field not in body:
            return (field, "is required")
        v = body[field]
        if not isinstance(v, str):
            return (field, "must be a string")
        if not allow_empty and not v.strip():
            return (field, "must not be empty")
        return None

    problem = need_string("Event date")
    if problem:
        return problem
    if not DATE_RE.match(body["Event date"]):
        return ("Event date", "must be an ISO date YYYY-MM-DD")
    try:
        datetime.date.fromisoformat(body["Event date"])
    except ValueError:
        return ("Event date", "is not a calendar date")
    problem = need_string("Submission Date")
    if problem:
        return problem
    if not DATETIME_RE.match(body["Submission Date"]):
        return ("Submission Date", "must be ISO 8601 with an offset")
    if "Claim Amount" not in body:
        return ("Claim Amount", "is required")
    amount = body["Claim Amount"]
    if isinstance(amount, bool) or not isinstance(amount, decimal.Decimal):
        return ("Claim Amount", "must be a JSON number with 2 decimals")
    if amount.as_tuple().exponent != -2:
        return ("Claim Amount", "must have exactly 2 decimals")
    if amount <= 0:
        return ("Claim Amount", "must be greater than 0")
    problem = need_string("Invoice Number", allow_empty=allow_empty_invoice)
    if problem:
        return problem
    problem = need_string("Policy Number")
    if problem:
        return problem
    for field in ("source_email_id", "source_filename"):
        if field in body and not isinstance(body[field], str):
            return (field, "must be a string")
    conf = body.get("extraction_confidence")
    if conf is not None and (isinstance(conf, bool) or not isinstance(conf, (int, decimal.Decimal))
                             or not 0 <= conf <= 1):
        return ("extraction_confidence", "must be a number between 0 and 1")
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ncb-double/1"

    def setup(self):
        if self.server.tls_context is not None:
            # The handshake happens here, in the request's thread, so a client
            # that refuses the certificate cannot stall the accept loop.
            self.request = self.server.tls_context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, fmt, *args):
        sys.stderr.write("ncb-double: " + (fmt % args) + "\n")

    # --- plumbing ---
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, status, obj, extra_headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def record(self, status):
        st = self.server.state
        st.requests.append({"method": self.command, "path": self.path, "status": status,
                            "request_id": self.headers.get("X-Request-ID", ""),
                            "idempotency_key": self.headers.get("Idempotency-Key", "")})

    def drop_connection(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def answer(self, status, obj, extra_headers=()):
        self.record(status)
        self.send_json(status, obj, extra_headers)

    # --- faults and auth, common to every API call ---
    def refused(self):
        """Sends the answer for an injected fault or a bad key; True if sent."""
        st = self.server.state
        if self.headers.get("Authorization", "") != "Bearer " + st.api_key:
            self.answer(401, {"success": False, "error_code": "UNAUTHORIZED", "message": "invalid API key"})
            return True
        if st.take("fail_next"):
            code = st.faults["fail_status"]
            self.answer(code, {"success": False, "error_code": "SERVER_ERROR", "message": "injected"})
            return True
        if st.take("rate_limit_next"):
            ra = st.faults["retry_after"]
            self.answer(429, {"success": False, "error_code": "RATE_LIMITED", "retry_after": ra},
                        [("Retry-After", str(ra))])
            return True
        return False

    # --- endpoints ---
    def do_GET(self):
        st = self.server.state
        if self.path == "/_claims":
            with st.lock:
                claims = [dict(key=k, **v) for k, v in st.claims.items()]
                self.send_json(200, {"claims": claims, "requests": st.requests, "faults": st.faults})
            return
        if self.path.rstrip("/").endswith("/health"):
            with st.lock:
                if not self.refused():
                    self.answer(200, {"status": "ok"})
            return
        with st.lock:
            self.answer(404, {"success": False, "error_code": "NOT_FOUND"})

    def do_POST(self):
        raw = self.read_body()
        st = self.server.state
        if self.path == "/_control":
            self.control(raw)
            return
        if not self.path.rstrip("/").endswith("/claims/submit"):
            with st.lock:
                self.answer(404, {"success": False, "error_code": "NOT_FOUND"})
            return
        with st.lock:
            if self.refused():
                return
            self.submit(raw)

    def control(self, raw):
        st = self.server.state
        try:
            cmd = json.loads(raw or b"{}")
        except ValueError:
            self.send_json(400, {"error": "control body must be JSON"})
            return
        with st.lock:
            if cmd.get("reset"):
                st.reset()
            for name in ("fail_next", "rate_limit_next", "retry_after", "lose_response_next", "duplicate_next"):
                if name in cmd:
                    st.faults[name] = int(cmd[name])
            if "status" in cmd:
                st.faults["fail_status"] = int(cmd["status"])
            self.send_json(200, {"faults": st.faults})

    def submit(self, raw):
        st = self.server.state
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        key = self.headers.get("Idempotency-Key", "")
        if ctype != "application/json":
            self.answer(400, {"success": False, "error_code": "VALIDATION_FAILED",
                              "message": "Content-Type must be application/json"})
            return
        if not self.headers.get("X-Request-ID"):
            self.answer(400, {"success": False, "error_code": "VALIDATION_FAILED",
                              "message": "X-Request-ID header is required"})
            return
        if not key:
            self.answer(400, {"success": False, "error_code": "VALIDATION_FAILED",
                              "message": "Idempotency-Key header is required"})
            return
        if key in st.claims:  # a replay of an accepted key
            if st.take("lose_response_next"):
                self.record(-1)
                self.drop_connection()
                return
            self.answer(200, {"success": True, "claim_reference": st.claims[key]["reference"],
                              "status": "received", "message": "replay"})
            return
        try:
            body = json.loads(raw, parse_float=decimal.Decimal)
        except ValueError:
            self.answer(400, {"success": False, "error_code": "VALIDATION_FAILED", "message": "body is not JSON"})
            return
        if not isinstance(body, dict):
            self.answer(400, {"success": False, "error_code": "VALIDATION_FAILED",
                              "message": "body must be a JSON object"})
            return
        problem = validate(body, st.allow_empty_invoice)
        if problem:
            self.answer(400, {"success": False, "error_code": "VALIDATION_FAILED",
                              "message": "Invalid " + problem[0],
                              "details": {"field": problem[0], "reason": problem[1]}})
            return
        if st.take("duplicate_next"):
            self.answer(409, {"success": False, "error_code": "DUPLICATE", "claim_reference": "CLM-DUP-000001",
                              "message": "claim already exists"})
            return
        ref = "CLM-%d-%06d" % (datetime.date.today().year, st.next_ref)
        st.next_ref += 1
        st.claims[key] = {"reference": ref, "body": json.loads(raw),
                          "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        if st.take("lose_response_next"):
            self.record(-1)  # committed, never answered
            self.drop_connection()
            return
        self.answer(201, {"success": True, "claim_reference": ref, "status": "received",
                          "message": "Claim received"})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client refusing our certificate or hanging up is expected in tests.
        err = sys.exc_info()[1]
        if isinstance(err, (ssl.SSLError, ConnectionError, OSError)):
            sys.stderr.write("ncb-double: connection from %s ended: %s\n" % (client_address[0], err))
            return
        super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-key", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--allow-empty-invoice", action="store_true")
    p.add_argument("--fail-next", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--rate-limit-next", type=int, default=0)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--lose-response-next", type=int, default=0)
    args = p.parse_args()

    server = Server((args.host, args.port), Handler)
    server.state = State(args)
    server.tls_context = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.tls_context = ctx
    # Never outlive the test that started it, even one killed mid-run.
    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
