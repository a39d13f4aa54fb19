#!/usr/bin/env python3
"""Scale-out: do several `ncbocr ocr` runs on one spool share its queue?

Run by hand (bench/scaleout.sh builds ncbocr first), never by ctest. It writes
one claim email per sampled dev receipt (bench/sizing.py's), fetches them into
a fresh spool, then starts R `ncbocr ocr` processes at once on that spool (one
OCR worker each, Tesseract) for R = 1 and R = --runs, and records:

  - the wall time from the start of the first to the end of the last, and the
    CPU seconds of all of them (wait4);
  - how many claims each run recognised (its "done: N claims" log line);
  - that every claim was recognised exactly once: each is in ocred once, and
    the journal holds one fetched -> ocred move per claim.

The processes stand in for hosts sharing the spool over NFS: the locks they
take (fcntl open-file-description locks) are the ones an NFS v4 server
enforces between clients. It writes bench/SCALEOUT.md.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import sizing  # noqa: E402

ROOT = bench.ROOT


def env():
    e = dict(os.environ)
    for k in ("OCR_ENGINE", "OCR_MODELS_DIR", "NCBOCR_SPOOL", "NCB_API_BASE_URL", "OCR_USE_GPU", "LOG_LEVEL"):
        e.pop(k, None)
    e["OCR_USE_GPU"] = "false"
    return e


def trial(args, files, work, inbox, runs):
    """Fetches into a fresh spool, then runs `runs` ocr processes at once."""
    here = os.path.join(work, "runs%d" % runs)
    os.makedirs(here)
    config = os.path.join(here, "ncbocr.yaml")
    sizing.write_config(config, here, inbox, "tesseract", 1, args.models)
    with open(config) as f:
        cfg = json.load(f)
    cfg["log"] = {"level": "info"}
    with open(config, "w") as f:
        json.dump(cfg, f)
    r = subprocess.run([args.ncbocr, "--config", config, "fetch"], env=env(), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("scaleout: fetch failed: " + r.stderr[-500:])
    spool = cfg["spool"]
    fetched = len(os.listdir(os.path.join(spool, "fetched")))
    logs = [os.path.join(here, "ocr%d.log" % i) for i in range(runs)]
    t0 = time.monotonic()
    procs = []
    for log in logs:
        with open(log, "w") as err:
            procs.append(subprocess.Popen([args.ncbocr, "--config", config, "ocr"], stdout=subprocess.DEVNULL,
                                          stderr=err, env=env()))
    cpu, rcs = 0.0, []
    for p in procs:
        _, status, ru = os.wait4(p.pid, 0)
        rcs.append(os.waitstatus_to_exitcode(status))
        cpu += ru.ru_utime + ru.ru_stime
    wall = time.monotonic() - t0
    per_run = []
    for log in logs:
        text = open(log).read()
        m = re.findall(r"done: (\d+) claims", text)
        per_run.append(int(m[-1]) if m else (0 if "holds the lock" in text else -1))
    ocred = os.listdir(os.path.join(spool, "ocred"))
    moves = 0
    with open(os.path.join(spool, "journal", "journal.log")) as f:
        for line in f:
            e = json.loads(line)
            if e.get("from") == "fetched" and e.get("to") == "ocred":
                moves += 1
    return {"runs": runs, "claims": fetched, "wall": wall, "cpu": cpu, "rcs": rcs, "per_run": per_run,
            "ocred": len(ocred), "distinct_ocred": len(set(ocred)), "journal_moves": moves,
            "left": sizing.claim_states(spool)}


def report(meta, results):
    out = ["# Scale-out: several ocr runs on one spool", "",
           "Written by `%s` on %s (commit %s)." % (meta["command"], meta["started"], meta["commit"]), "",
           "| machine | |", "|---|---|"]
    m = meta["machine"]
    for k in ("cpu", "cores", "ram", "os", "tesseract"):
        out.append("| %s | %s |" % (k, m.get(k, "?")))
    out.append("| load average at start | %s |" % m.get("load", "?"))
    out += ["", "%d receipts (every k-th of %s), Tesseract, one OCR worker per run; the runs start at once "
            "on one spool." % (meta["sample"], meta["images"]), "",
            "| ocr runs at once | wall s | speed-up | CPU s, all runs | claims per run | recognised once each |",
            "|---|---|---|---|---|---|"]
    base = results[0]["wall"]
    for r in results:
        once = (r["ocred"] == r["claims"] == r["distinct_ocred"] == r["journal_moves"] and sum(r["per_run"]) == r["claims"]
                and all(rc == 0 for rc in r["rcs"]))
        out.append("| %d | %.1f | %.2fx | %.1f | %s | %s |" % (
            r["runs"], r["wall"], base / r["wall"], r["cpu"], " + ".join(str(n) for n in r["per_run"]),
            "yes" if once else "NO: %d claims, %d in ocred, %d journal moves, exits %s, left %s" % (
                r["claims"], r["ocred"], r["journal_moves"], r["rcs"], r["left"])))
    out += ["", "A speed-up near the number of runs, on a machine with that many idle cores, means the runs",
            "shared the queue; on a loaded machine the wall times say more about the neighbours.", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", default=os.path.join(ROOT, "..", "shared", "receipts-dev", "img"))
    ap.add_argument("--limit", type=int, default=16)
    ap.add_argument("--runs", type=int, default=2, help="ocr processes at once in the second trial")
    ap.add_argument("--ncbocr", default=os.path.join(ROOT, "build", "ncbocr"))
    ap.add_argument("--models", default=os.path.join(ROOT, "build", "models"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "SCALEOUT.md"))
    args = ap.parse_args()
    args.images = os.path.abspath(args.images)
    if not os.path.isdir(args.images):
        sys.exit("scaleout: no receipts at %s; give --images DIR" % args.images)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    if subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        commit += " + uncommitted changes"
    meta = {"command": " ".join(["nice -n 10 bench/scaleout.sh"] + sys.argv[1:]), "commit": commit,
            "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "images": args.images, "machine": bench.machine()}
    work = tempfile.mkdtemp(prefix="ncbocr-scaleout-")
    try:
        files = sizing.pick(args.images, args.limit)
        inbox = os.path.join(work, "inbox")
        sizing.write_inbox(files, inbox)
        for f in files:
            with open(f, "rb") as fh:
                fh.read()
        meta["sample"] = len(files)
        results = [trial(args, files, work, inbox, 1), trial(args, files, work, inbox, args.runs)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(meta, results)
    print(text)
    with open(args.out, "w") as f:
        f.write(text)
    print("scaleout: wrote %s" % args.out)
    bad = [r for r in results if not (r["ocred"] == r["claims"] == r["journal_moves"] and all(rc == 0 for rc in r["rcs"]))]
    if bad:
        sys.exit("scaleout: a trial did not recognise every claim exactly once")


if __name__ == "__main__":
    main()
