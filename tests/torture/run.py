#!/usr/bin/env python3
"""The crash and fault harness: the whole pipeline under SIGKILL and faults.

Claim emails go into the Google double's Gmail (a batch at a time); stage
processes (fetch, ocr, extract, submit, archive, and now and then a whole
`run`) are started as cron would start them, several at once, and a seeded
RNG kills some of them with SIGKILL at random moments. Meanwhile it injects
faults: NCB 5xx, 429 and answers lost after NCB committed; Gmail 500s;
Sheets 429; every Google access token expired at once; and a full spool
(the spool lives on a small tmpfs of its own, filled to the last byte for a
while). Then the faults stop and the pipeline runs to quiescence (deferred
and given-up claims are retried as an operator would), and the end state is
checked against what was sent:

  every email accounted for (labelled, one claim per receipt);
  every receipt exactly once in NCB, by Idempotency-Key and by content;
  no duplicate Drive file or Sheets row;
  every claim in exactly one state directory, and that state final or waiting
  (done, duplicate, review) as its email says;
  the journal consistent with the spool (each claim's last move ends where
  the claim is);
  no personal data from the emails in any log.

Prints one summary line (kills, faults, claims, lost 0, duplicated 0) and
exits 0 only if every check holds. Usage:

  run.py --ncbocr BIN [--long] [--emails N] [--kills N] [--seed S] [--keep]

The spool's tmpfs needs mount(2): as root it mounts one; otherwise it runs
itself again under `unshare -rm` (a user and mount namespace); if neither
works the full-disk fault is skipped and the summary says so.
"""

import argparse
import collections
import copy
import datetime
import errno
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import mails  # noqa: E402

STAGES = ["fetch", "ocr", "extract", "submit", "archive"]
ACTIVE = {"fetched", "ocred", "ready", "submitted"}
# Exit codes a stage may end with under faults (sysexits); anything else,
# or a signal we did not send, is a finding.
EXPECTED_CODES = {0, 69, 74, 75}


def log(msg):
    print("torture: " + msg, flush=True)


class Harness:
    def __init__(self, args):
        self.a = args
        self.rnd = random.Random(args.seed)
        self.work = tempfile.mkdtemp(prefix="ncbocr-torture.")
        self.mnt = os.path.join(self.work, "mnt")
        self.spool = os.path.join(self.mnt, "spool")
        self.ballast = os.path.join(self.mnt, "ballast")
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs)
        os.makedirs(self.mnt)
        self.doubles = []
        self.kills = 0
        self.faults = collections.Counter()
        self.findings = []
        self.procs = []
        self.nproc = 0
        self.disk_full = False
        self.tmpfs = False
        self.retried_failed = 0
        self.lost = self.dup = self.nclaims = 0
        self.met = collections.Counter()
        self.last_expiry = 0.0

    # ------------------------------------------------------------ setup
    def mount_spool(self):
        try:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % self.a.spool_mb,
                            "tmpfs", self.mnt], check=True, capture_output=True)
            self.tmpfs = True
        except (OSError, subprocess.CalledProcessError) as e:
            log("cannot mount a tmpfs for the spool (%s): full-disk fault skipped" % e)

    def start(self, argv):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(os.path.join(self.logs, "doubles.err"), "a"))
        self.doubles.append(p)
        line = p.stdout.readline().decode().strip()
        if not line.isdigit():
            raise SystemExit("a double did not start: " + " ".join(argv))
        return int(line)

    def setup(self):
        self.mount_spool()
        w = self.work
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", w + "/sa.pem"], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", w + "/sa.pem", "-pubout", "-out", w + "/sa.pub"],
                       check=True, capture_output=True)
        gport = self.start([sys.executable, SOURCE + "/tests/doubles/google_double.py", "--public-key", w + "/sa.pub",
                            "--refresh-token", "1//torture", "--client-id", "cid", "--client-secret", "cs",
                            "--drive-root", "ROOT", "--spreadsheet", "SHEET", "--page-size", "25"])
        nport = self.start([sys.executable, SOURCE + "/tests/doubles/ncb_double.py", "--api-key", "torture-key"])
        self.g = "http://127.0.0.1:%d" % gport
        self.n = "http://127.0.0.1:%d" % nport
        secret = lambda name, text: (open(w + "/" + name, "w").write(text), os.chmod(w + "/" + name, 0o600))
        secret("client.json", json.dumps({"installed": {"client_id": "cid", "client_secret": "cs",
                                          "auth_uri": self.g + "/o/oauth2/auth", "token_uri": self.g + "/token"}}))
        secret("token.json", json.dumps({"token": "", "refresh_token": "1//torture", "token_uri": self.g + "/token",
                                         "client_id": "cid", "client_secret": "cs", "expiry": "2020-01-01T00:00:00Z",
                                         "scopes": ["https://www.googleapis.com/auth/gmail.modify"]}))
        secret("sa.json", json.dumps({"type": "service_account", "client_email": "t@test.iam.gserviceaccount.com",
                                      "private_key_id": "k1", "private_key": open(w + "/sa.pem").read(),
                                      "token_uri": self.g + "/token"}))
        secret("ncb.key", "torture-key\n")
        open(w + "/ncbocr.yaml", "w").write(f"""spool: {self.spool}
log:
  level: warn
fetch:
  source: gmail
gmail:
  credentials_path: {w}/client.json
  token_path: {w}/token.json
  api_base_url: {self.g}
ncb:
  base_url: {self.n}/api/v1
  api_key_file: {w}/ncb.key
  timeout: 20
archive:
  drive_credentials_path: {w}/sa.json
  drive_folder_id: ROOT
  drive_api_base_url: {self.g}
  sheets_credentials_path: {w}/sa.json
  sheets_spreadsheet_id: SHEET
  sheets_api_base_url: {self.g}
""")
        self.emails = mails.make(self.a.emails, self.a.seed)
        self.loaded = 0

    # ------------------------------------------------------------ doubles
    def post(self, base, path, obj):
        req = urllib.request.Request(base + path, json.dumps(obj).encode(), {"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(req, timeout=30))

    def get(self, base, path):
        return json.load(urllib.request.urlopen(base + path, timeout=60))

    def load_emails(self, count):
        batch = self.emails[self.loaded:self.loaded + count]
        if not batch:
            return
        self.post(self.g, "/_control/messages", {"messages": [
            {"id": m["id"], "raw_b64": mails.b64(m["raw"]), "internalDate": 1700000000000 + self.loaded + i}
            for i, m in enumerate(batch)]})
        self.loaded += len(batch)

    def inject(self):
        kind = self.rnd.choice(["ncb5xx", "ncb429", "ncblost", "gmail500", "sheets429", "expired", "diskfull"])
        k = self.rnd.randint(1, 3)
        if kind == "ncb5xx":
            self.post(self.n, "/_control", {"fail_next": k, "status": self.rnd.choice([500, 502, 503])})
        elif kind == "ncb429":
            self.post(self.n, "/_control", {"rate_limit_next": k, "retry_after": 1})
        elif kind == "ncblost":
            self.post(self.n, "/_control", {"lose_response_next": k})
        elif kind == "gmail500":
            self.post(self.g, "/_control/fault", {"method": "GET", "path": self.rnd.choice(
                ["/gmail/v1/users/me/messages/", "/gmail/v1/users/me/messages$"]), "status": 500, "count": k})
        elif kind == "sheets429":
            self.post(self.g, "/_control/fault", {"path": self.rnd.choice([":append$", "/values/"]),
                                                  "status": 429, "retry_after": 1, "count": k,
                                                  "after": self.rnd.random() < 0.5})
        elif kind == "expired":
            # Spaced out, and only tokens in use for a while, as real
            # revocations are: a token refused moments after it was issued
            # means bad credentials (exit 77) by design.
            if time.time() - self.last_expiry < 5:
                return
            self.last_expiry = time.time()
            self.post(self.g, "/_control/expire_tokens", {"older_than": 2})
            k = 1
        elif kind == "diskfull":
            if not self.tmpfs or self.disk_full:
                return
            self.fill_disk()
            k = 1
        self.faults[kind] += k
        self.timeline("fault %s x%d" % (kind, k))

    def timeline(self, what):
        with open(os.path.join(self.logs, "timeline.log"), "a") as f:
            f.write("%.3f %s\n" % (time.time(), what))

    def fill_disk(self):
        fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1 << 20, 4096, 1):  # down to the last byte
                chunk = b"\0" * size
                try:
                    while True:
                        os.write(fd, chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
        finally:
            os.close(fd)
        self.disk_full = True
        self.disk_full_until = time.time() + self.rnd.uniform(1.0, 4.0)

    def free_disk(self):
        if os.path.exists(self.ballast):
            os.unlink(self.ballast)
        self.disk_full = False

    # ------------------------------------------------------------ processes
    def ncbocr(self, *args):
        return [self.a.ncbocr, "--config", self.work + "/ncbocr.yaml"] + list(args)

    def spawn(self, stage, kill_after):
        self.nproc += 1
        err = open(os.path.join(self.logs, "%05d-%s.err" % (self.nproc, stage)), "w")
        p = subprocess.Popen(self.ncbocr(stage), stdout=subprocess.DEVNULL, stderr=err)
        self.timeline("process %d %s: started" % (self.nproc, stage))
        self.procs.append({"p": p, "stage": stage, "kill_at": time.time() + kill_after if kill_after else None,
                           "killed": False, "n": self.nproc, "t0": time.time()})

    def reap(self):
        left = []
        for r in self.procs:
            p = r["p"]
            if p.poll() is None and r["kill_at"] and time.time() >= r["kill_at"]:
                p.send_signal(signal.SIGKILL)
                r["killed"] = True
                p.wait()
                self.kills += 1
            rc = p.poll()
            if rc is None:
                left.append(r)
                continue
            what = "killed" if r["killed"] else rc
            self.timeline("process %d %s: %s" % (r["n"], r["stage"], what))
            if self.a.verbose:
                log("process %d %s: %s after %.1f s" % (r["n"], r["stage"], what, time.time() - r["t0"]))
            if not r["killed"] and rc not in EXPECTED_CODES:
                self.findings.append("process %d (%s) ended with %d; log %s" % (
                    r["n"], r["stage"], rc, os.path.join(self.logs, "%05d-%s.err" % (r["n"], r["stage"]))))
        self.procs = left

    def chaos(self):
        t0 = time.time()
        batch = max(5, self.a.emails // 12)
        while True:
            now = time.time()
            if self.loaded < len(self.emails) and self.rnd.random() < 0.15:
                self.load_emails(batch)
            if self.rnd.random() < self.a.fault_rate:
                self.inject()
            if self.disk_full and now >= self.disk_full_until:
                self.free_disk()
            running = collections.Counter(r["stage"] for r in self.procs)
            if len(self.procs) < 6 and self.rnd.random() < 0.5:
                stage = self.rnd.choice(STAGES + ["run"])
                if running[stage] < 2:
                    kill = self.rnd.uniform(0.05, 2.5) if self.rnd.random() < 0.6 else None
                    self.spawn(stage, kill)
            self.reap()
            done_loading = self.loaded >= len(self.emails)
            if done_loading and self.kills >= self.a.kills:
                break
            if now - t0 > self.a.max_chaos_s:
                self.findings.append("chaos phase hit its time limit with %d of %d kills" % (self.kills, self.a.kills))
                break
            time.sleep(0.05)
        for r in self.procs:
            r["kill_at"] = None
        while self.procs:
            self.reap()
            time.sleep(0.05)
        self.free_disk()
        log("chaos: %d processes, %d kills, faults %s in %.0f s" % (
            self.nproc, self.kills, dict(self.faults), time.time() - t0))

    # ------------------------------------------------------------ quiescence
    def claims(self):
        out = []
        for path in glob.glob(os.path.join(self.spool, "*", "*", "claim.json")):
            state = os.path.basename(os.path.dirname(os.path.dirname(path)))
            if state == "tmp":
                continue
            c = json.load(open(path))
            c["_dir_state"] = state
            out.append(c)
        return out

    def quiesce(self):
        self.post(self.n, "/_control", {"fail_next": 0, "rate_limit_next": 0, "lose_response_next": 0})
        self.retried_failed = 0
        for rnd in range(20):
            q = subprocess.run(self.ncbocr("retry", "--state", "deferred"), capture_output=True)
            failed = [c for c in self.claims() if c["_dir_state"] == "failed"]
            # Only claims that gave up on a fault are retried; any other
            # failure is a finding, left where it is.
            give_up = [c["id"] for c in failed if c.get("reason", "").startswith("gave up after")]
            if give_up:
                self.retried_failed += len(give_up)
                subprocess.run(self.ncbocr("retry", *give_up), capture_output=True)
            err = open(os.path.join(self.logs, "quiesce-%02d.err" % rnd), "w")
            r = subprocess.run(self.ncbocr("run"), stdout=subprocess.DEVNULL, stderr=err)
            states = collections.Counter(c["_dir_state"] for c in self.claims())
            st = self.get(self.g, "/_control/state")
            unlabelled = [m for m in st["gmail"]["messages"] if m["has_attachment"] and
                          not any(l.startswith("Label_") for l in m["labelIds"])]
            busy = sum(states[s] for s in ACTIVE | {"deferred"}) + len(unlabelled)
            if r.returncode == 0 and busy == 0 and q.returncode == 0:
                log("quiescent after %d passes: %s" % (rnd + 1, dict(states)))
                return
        self.findings.append("no quiescence after 20 passes: %s" % dict(states))

    # ------------------------------------------------------------ checks
    def snapshot(self):
        journal = open(os.path.join(self.spool, "journal", "journal.log"), "rb").read().splitlines()
        logs = {p: open(p, "rb").read() for p in glob.glob(os.path.join(self.logs, "*.err"))}
        return {"claims": self.claims(), "google": self.get(self.g, "/_control/state"),
                "ncb": self.get(self.n, "/_claims"), "journal": journal, "logs": logs}

    def faults_met(self, snap):
        """Faults that a request actually ran into (armed ones may go unused)."""
        met = collections.Counter()
        names = {429: "ncb429", -1: "ncblost"}
        for r in snap["ncb"]["requests"]:
            if r["status"] in names or r["status"] >= 500:
                met[names.get(r["status"], "ncb5xx")] += 1
        left = collections.Counter()
        for f in snap["google"]["faults_left"]:
            left["gmail500" if f["path"].startswith("/gmail") else "sheets429"] += f["count"]
        for kind in ("gmail500", "sheets429"):
            met[kind] = self.faults[kind] - left[kind]
        for kind in ("expired", "diskfull"):
            met[kind] = self.faults[kind]
        return met

    def check(self):
        snap = self.snapshot()
        self.met = self.faults_met(snap)
        bad, self.lost, self.dup, self.nclaims = self.verify(snap)
        recovered = sum(1 for line in snap["journal"] if b'"recovered":true' in line)
        log("journal: %d lines, %d of them moves recorded after an interrupted run" % (
            len(snap["journal"]), recovered))
        self.findings += bad
        if self.a.selftest and not bad:
            self.selftest(snap)

    def selftest(self, snap):
        """The checks must catch what they are for: each mutation of a clean
        end state has to be reported (and counted as lost or duplicated)."""
        def mutate(name, fn, count=None):
            s = copy.deepcopy(snap)
            fn(s)
            bad, lost, dup, _ = self.verify(s)
            if not bad or (count == "lost" and not lost) or (count == "dup" and not dup):
                self.findings.append("selftest: %s went unnoticed" % name)
        done = [c for c in snap["claims"] if c["_dir_state"] == "done"]
        c0 = done[0]
        mutate("a lost claim", lambda s: s["claims"].remove(next(c for c in s["claims"] if c["id"] == c0["id"])), "lost")
        mutate("a claim in two states", lambda s: s["claims"].append(dict(c0, _dir_state="ready")))
        mutate("a receipt twice in NCB", lambda s: s["ncb"]["claims"].append(
            dict(s["ncb"]["claims"][0], key="ncbocr-other")), "dup")
        mutate("a receipt missing in NCB", lambda s: s["ncb"]["claims"].pop(), "lost")
        mutate("a Drive file twice", lambda s: s["google"]["drive"]["files"].append(
            next(f for f in s["google"]["drive"]["files"] if f["appProperties"].get("ncbocr_claim_id"))), "dup")
        mutate("a Sheets row twice", lambda s: s["google"]["sheets"]["SHEET"][next(
            iter(t for t, r in s["google"]["sheets"]["SHEET"].items() if len(r) > 1))].append(
            next(r for t in s["google"]["sheets"]["SHEET"].values() for r in t[1:] if len(r) > 1)), "dup")
        mutate("a journal ending elsewhere", lambda s: s["journal"].append(json.dumps(
            {"claim": c0["id"], "from": "done", "to": "review"}).encode()))
        mutate("an unlabelled email", lambda s: s["google"]["gmail"]["messages"][0].update(labelIds=["INBOX"]))
        mutate("a claim stuck in ready", lambda s: next(c for c in s["claims"] if c["id"] == c0["id"]).update(
            _dir_state="ready"))
        mutate("a member name in a log", lambda s: s["logs"].update({"x.err": b"claim for Test Member 3"}))
        log("selftest: %d mutations of the end state checked" % 10)

    def verify(self, snap):
        bad = []
        claims = snap["claims"]
        by_id = collections.defaultdict(list)
        for c in claims:
            by_id[c["id"]].append(c["_dir_state"])
        twice = {i: s for i, s in by_id.items() if len(s) > 1}
        if twice:
            bad.append("claims in more than one state: %r" % twice)
        st, ncb = snap["google"], snap["ncb"]
        if st["violations"]:
            bad.append("Google double violations: %r" % st["violations"][:5])

        # Emails: every one labelled, one claim per receipt, states as expected.
        labels = {l["name"]: l["id"] for l in st["gmail"]["labels"]}
        lab = labels.get("ncbocr-processed")
        gm = {m["id"]: m for m in st["gmail"]["messages"]}
        per_email = collections.defaultdict(list)
        for c in claims:
            per_email[c["source"]["email_id"]].append(c)
        lost = 0
        member_shas = {}
        for m in self.emails:
            if m["id"] not in gm or lab not in gm[m["id"]]["labelIds"]:
                bad.append("email %s not labelled processed" % m["id"])
            mine = per_email.get(m["id"], [])
            want = sorted(r["sha"] for r in m["receipts"])
            got = sorted(c["attachment"]["sha256"] for c in mine if c.get("attachment"))
            if got != want or len(mine) != len(want):
                bad.append("email %s: %d claims for %d receipts" % (m["id"], len(mine), len(want)))
                lost += max(0, len(set(want) - set(got)))
            for c in mine:
                ok = {"review"} if m["kind"] == "no-member" else {"done", "duplicate"}
                if c["_dir_state"] not in ok:
                    bad.append("claim %s of email %s (%s) is in %s: %s" % (
                        c["id"], m["id"], m["kind"], c["_dir_state"], c.get("reason", "")))
            if m["kind"] != "no-member":
                for r in m["receipts"]:
                    member_shas[r["sha"]] = r
        extra = set(per_email) - {m["id"] for m in self.emails}
        if extra:
            bad.append("claims from emails never sent: %r" % sorted(extra)[:5])

        # NCB: every member receipt exactly once, by key and by content.
        keys = collections.Counter(c["key"] for c in ncb["claims"])
        numbers = collections.Counter(c["body"].get("Invoice Number") for c in ncb["claims"])
        dup = sum(n - 1 for n in keys.values() if n > 1) + sum(n - 1 for n in numbers.values() if n > 1)
        for sha, r in member_shas.items():
            key = "ncbocr-" + sha[:40]
            if keys[key] != 1 or numbers[r["number"]] != 1:
                bad.append("receipt %s in NCB %d times by key, %d by content" % (
                    r["number"], keys[key], numbers[r["number"]]))
                lost += keys[key] == 0
            got = [c for c in ncb["claims"] if c["key"] == key]
            if got and got[0]["body"].get("Claim Amount") != float(r["total"].replace(",", "")):
                bad.append("receipt %s: NCB has amount %r, receipt says %s" % (
                    r["number"], got[0]["body"].get("Claim Amount"), r["total"]))
        if len(ncb["claims"]) != len(member_shas):
            bad.append("NCB holds %d claims for %d receipts" % (len(ncb["claims"]), len(member_shas)))
        done = [c for c in claims if c["_dir_state"] == "done"]
        refs = {c["key"]: c["reference"] for c in ncb["claims"]}
        for c in done:
            if refs.get("ncbocr-" + c["attachment"]["sha256"][:40]) != c.get("ncb_reference"):
                bad.append("claim %s: reference %r is not NCB's" % (c["id"], c.get("ncb_reference")))
        if len(done) != len(member_shas):
            bad.append("%d claims done for %d receipts" % (len(done), len(member_shas)))

        # Drive and Sheets: one file and one row per archived claim.
        uploads = [f for f in st["drive"]["files"] if f["mimeType"] != "application/vnd.google-apps.folder"]
        by_claim = collections.Counter(f["appProperties"].get("ncbocr_claim_id") for f in uploads)
        by_sha = collections.Counter(f["sha256"] for f in uploads)
        dup += sum(n - 1 for n in by_claim.values() if n > 1)
        for c in done:
            if by_claim[c["id"]] != 1 or by_sha[c["attachment"]["sha256"]] != 1:
                bad.append("claim %s: %d Drive files (%d with its content)" % (
                    c["id"], by_claim[c["id"]], by_sha[c["attachment"]["sha256"]]))
        if len(uploads) != len(done):
            bad.append("%d Drive files for %d archived claims" % (len(uploads), len(done)))
        folders = collections.Counter((f["parents"][0], f["name"]) for f in st["drive"]["files"]
                                      if f["mimeType"].endswith("folder") and f["parents"])
        if any(n > 1 for n in folders.values()):
            bad.append("Drive folders made twice: %r" % [k for k, n in folders.items() if n > 1])
        rows = collections.Counter()
        for tab, trows in st["sheets"]["SHEET"].items():
            for row in trows[1:]:
                if len(row) > 1 and row[1]:
                    rows[row[1]] += 1
        dup += sum(n - 1 for n in rows.values() if n > 1)
        for cid, n in rows.items():
            if n > 1:
                bad.append("claim %s has %d Sheets rows" % (cid, n))
        for c in done:
            if rows[c["id"]] != 1:
                bad.append("claim %s has %d Sheets rows" % (c["id"], rows[c["id"]]))

        # Journal: each claim's last move ends where the claim is.
        last = {}
        for line in snap["journal"]:
            try:
                e = json.loads(line)
            except ValueError:
                bad.append("journal: unreadable line %r" % line[:80])
                continue
            last[e["claim"]] = e["to"]
        for c in claims:
            if last.get(c["id"]) != c["_dir_state"]:
                bad.append("journal: claim %s last moved to %s but is in %s" % (
                    c["id"], last.get(c["id"]), c["_dir_state"]))

        # Personal data from the emails in no log.
        for path, text in snap["logs"].items():
            for needle in (b"Test Member", b"POL-2026-", b"@example.com"):
                if needle in text:
                    bad.append("personal data (%s) in %s" % (needle.decode(), path))
                    break
        return bad, lost, dup, len(claims)

    def cleanup(self):
        for p in self.procs:
            p["p"].kill()
        for p in self.doubles:
            p.kill()
            p.wait()
        if self.tmpfs:
            subprocess.run(["umount", self.mnt], capture_output=True)
        if not self.a.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            log("kept " + self.work)


def main():
    ap = argparse.ArgumentParser(description="crash and fault harness")
    ap.add_argument("--ncbocr", required=True)
    ap.add_argument("--long", action="store_true", help="250 emails, 120 kills")
    ap.add_argument("--emails", type=int)
    ap.add_argument("--kills", type=int)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--fault-rate", type=float, default=0.08, help="chance of a fault per 50 ms tick")
    ap.add_argument("--spool-mb", type=int, default=48)
    ap.add_argument("--max-chaos-s", type=int, default=1200)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--selftest", action="store_true", help="also prove the checks catch a spoiled end state")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per stage process")
    ap.add_argument("--no-unshare", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.emails = a.emails or (250 if a.long else 48)
    a.kills = a.kills if a.kills is not None else (120 if a.long else 25)
    a.ncbocr = os.path.abspath(a.ncbocr)
    if os.geteuid() != 0 and not a.no_unshare and shutil.which("unshare"):
        # Root in a user namespace of our own may mount the spool's tmpfs.
        argv = ["unshare", "-rm", sys.executable] + sys.argv + ["--no-unshare", "--seed", str(a.seed)]
        if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0:
            os.execvp("unshare", argv)
    log("seed %d: %d emails, at least %d kills" % (a.seed, a.emails, a.kills))
    h = Harness(a)
    try:
        h.setup()
        h.chaos()
        h.quiesce()
        h.check()
    finally:
        h.cleanup()
    for f in h.findings[:40]:
        print("  FINDING: " + f, file=sys.stderr)
    faults = sum(h.faults.values())
    disk = "" if h.tmpfs else " (full disk skipped: no tmpfs)"
    print("torture seed %d: kills %d, faults %d injected, %d met (%s), claims %d, emails %d, retried %d, "
          "lost %d, duplicated %d%s" % (
              a.seed, h.kills, faults, sum(h.met.values()),
              " ".join("%s=%d" % kv for kv in sorted(h.met.items())), h.nclaims,
              len(h.emails), h.retried_failed, h.lost, h.dup, disk))
    return 1 if h.findings or h.lost or h.dup else 0


if __name__ == "__main__":
    sys.exit(main())
