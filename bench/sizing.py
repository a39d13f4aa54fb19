#!/usr/bin/env python3
"""Sizing: what one receipt costs in CPU, memory and disk, per OCR configuration.

Run by hand (bench/sizing.sh builds ncbocr first), never by ctest. For each OCR
configuration (tesseract; paddle; tesseract+paddle) it:

  1. writes one claim email (.eml, fictitious member id and policy number, one
     receipt attached) per sampled dev receipt into a fresh folder;
  2. runs the real stages over a fresh spool with ONE OCR worker, one process
     each, in order: fetch, ocr, extract, submit (to a file:// NCB outbox, as
     the quick start does), archive (to a local archive);
  3. runs fetch and ocr again over another fresh spool with TWO workers, for
     the memory a second worker adds;

and takes from wait4(2) the CPU seconds (user + sys, all threads) and the peak
RSS of every stage process, with the wall time and the load average around
each, so a reader can judge how busy the machine was. Receipts per hour per
core = 3600 / CPU seconds per receipt. After the one-worker pipeline it walks
the spool and splits its bytes by what grows (claim directories: attachments,
ocr.json, extract.json, the rest; journal; index; the rest), per claim and per
1,000 claims. It writes bench/SIZING.md. Python 3 standard library only.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (machine facts, the same as bench/RESULTS.md)

ROOT = bench.ROOT
CONFIGS = ("tesseract", "paddle", "tesseract+paddle")
STAGES = ("fetch", "ocr", "extract", "submit", "archive")
ATTACH = "attachment (original.*)"
CLAIM_REST = "claim.json, email.json, the directory"
FIXED = "state directories, stages/, locks/, tmp/"


def pick(images, limit):
    """Every k-th image, so the sample spans the whole set."""
    names = sorted(f for f in os.listdir(images) if os.path.isfile(os.path.join(images, f)))
    if limit and len(names) > limit:
        step = len(names) / limit
        names = [names[int(i * step)] for i in range(limit)]
    return [os.path.join(images, n) for n in names]


def write_inbox(files, inbox):
    """One claim email per receipt: member fields in the body, the receipt attached.

    Everything in the emails is made up here; the receipts are the dev set's.
    Returns the total size of the emails in bytes.
    """
    os.makedirs(inbox)
    total = 0
    for i, f in enumerate(files):
        msg = EmailMessage()
        msg["From"] = "member%03d@example.com" % i
        msg["To"] = "claims@example.com"
        msg["Subject"] = "Claim for my receipt"
        msg["Date"] = "Tue, 01 Dec 2026 09:%02d:00 +0800" % (i % 60)
        msg["Message-ID"] = "<sizing-%03d@example.com>" % i
        msg.set_content("Hello,\n\nPlease process my claim.\nMember ID: M%07d\nPolicy number: POL-2026-%05d\n\n"
                        "Thank you\n" % (5000000 + i, 10000 + i))
        with open(f, "rb") as fh:
            data = fh.read()
        ext = os.path.splitext(f)[1].lower().lstrip(".")
        msg.add_attachment(data, maintype="image", subtype={"jpg": "jpeg"}.get(ext, ext),
                           filename="receipt%s" % os.path.splitext(f)[1])
        path = os.path.join(inbox, "%03d.eml" % i)
        with open(path, "wb") as out:
            out.write(bytes(msg))
        total += os.path.getsize(path)
    return total


def write_config(path, work, inbox, engine, workers, models):
    # JSON is YAML: no quoting questions for paths.
    cfg = {
        "spool": os.path.join(work, "spool"),
        "log": {"level": "warn"},
        "fetch": {"source": "eml", "path": inbox, "on_processed": "keep"},
        "ocr": {"workers": workers, "engine": engine, "models_dir": models},
        "ncb": {"base_url": "file://" + os.path.join(work, "ncb-outbox")},
        "archive": {"dir": os.path.join(work, "archive"), "audit_csv": os.path.join(work, "archive", "audit.csv")},
        # The dev receipts are years old; age must not decide where they go.
        "extract": {"max_service_age_days": 36500},
    }
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)


def run_stage(binary, config, stage, log):
    """Runs `ncbocr --config CONFIG STAGE`; returns its exit code and costs."""
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    with open(log, "a") as err:
        err.write("== %s\n" % stage)
        err.flush()
        env = dict(os.environ)
        for k in ("OCR_ENGINE", "OCR_MODELS_DIR", "NCBOCR_SPOOL", "NCB_API_BASE_URL", "OCR_USE_GPU"):
            env.pop(k, None)  # the generated config decides
        env["OCR_USE_GPU"] = "false"  # CPU figures, even on a machine with a GPU
        p = subprocess.Popen([binary, "--config", config, stage], stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    return {"rc": os.waitstatus_to_exitcode(status), "user": ru.ru_utime, "sys": ru.ru_stime,
            "cpu": ru.ru_utime + ru.ru_stime, "wall": wall, "rss_mb": ru.ru_maxrss / 1024.0,
            "load": (load0 + os.getloadavg()[0]) / 2}


def claim_states(spool):
    out = {}
    for d in sorted(os.listdir(spool)):
        p = os.path.join(spool, d)
        if d in ("tmp", "index", "journal", "locks", "stages") or not os.path.isdir(p):
            continue
        n = len(os.listdir(p))
        if n:
            out[d] = n
    return out


def sizes(path):
    """(apparent bytes, bytes on disk) of a file or a tree, directories included."""
    st = os.lstat(path)
    app, disk = st.st_size, st.st_blocks * 512
    if os.path.isdir(path) and not os.path.islink(path):
        for name in os.listdir(path):
            a, d = sizes(os.path.join(path, name))
            app += a
            disk += d
    return app, disk


def spool_growth(spool):
    """Bytes of the spool split by what grows; claim directories split by file kind."""
    parts = {k: [0, 0] for k in (ATTACH, "ocr.json", "extract.json", CLAIM_REST, "journal/", "index/", FIXED)}

    def add(k, ad):
        parts[k][0] += ad[0]
        parts[k][1] += ad[1]

    claims = 0
    second = [0, 0]  # ocr.json files with a second (paddle) reading; with a second_error
    for d in sorted(os.listdir(spool)):
        p = os.path.join(spool, d)
        if d in ("journal", "index"):
            add(d + "/", sizes(p))
            continue
        if d in ("tmp", "locks", "stages") or not os.path.isdir(p):
            add(FIXED, sizes(p))
            continue
        st = os.lstat(p)
        add(FIXED, (st.st_size, st.st_blocks * 512))
        for c in os.listdir(p):
            claims += 1
            cdir = os.path.join(p, c)
            st = os.lstat(cdir)
            add(CLAIM_REST, (st.st_size, st.st_blocks * 512))
            for name in os.listdir(cdir):
                fp = os.path.join(cdir, name)
                if name.startswith("original"):
                    add(ATTACH, sizes(fp))
                elif name in ("ocr.json", "extract.json"):
                    add(name, sizes(fp))
                    if name == "ocr.json":
                        try:
                            with open(fp) as f:
                                j = json.load(f)
                            second[0] += 1 if "second" in j else 0
                            second[1] += 1 if "second_error" in j else 0
                        except (OSError, ValueError):
                            pass
                else:
                    add(CLAIM_REST, sizes(fp))
    return claims, parts, second


def pipeline(args, engine, files, work, inbox, email_bytes):
    """Fresh spool, one worker, every stage; then fetch+ocr with two workers."""
    res = {"engine": engine, "receipts": len(files), "email_bytes": email_bytes}
    d1 = os.path.join(work, engine.replace("+", "_") + "-w1")
    os.makedirs(d1)
    cfg1 = os.path.join(d1, "ncbocr.yaml")
    write_config(cfg1, d1, inbox, engine, 1, args.models)
    log1 = os.path.join(d1, "stderr.log")
    res["w1"] = {}
    for stage in STAGES:
        print("  %s, 1 worker: %s ..." % (engine, stage), flush=True)
        r = run_stage(args.ncbocr, cfg1, stage, log1)
        res["w1"][stage] = r
        print("    exit %d, cpu %.1f s, wall %.1f s, peak %.0f MB" % (r["rc"], r["cpu"], r["wall"], r["rss_mb"]))
        if r["rc"] not in (0,):
            print("    (see %s)" % log1, file=sys.stderr)
    # Each stage once more over the drained spool: what a run costs with
    # nothing to do (start-up, config, locks, the journal), so the per-claim
    # figures below can leave it out.
    res["idle"] = {}
    for stage in STAGES:
        res["idle"][stage] = run_stage(args.ncbocr, cfg1, stage, log1)
    spool = os.path.join(d1, "spool")
    res["states"] = claim_states(spool)
    res["claims"], res["parts"], res["second"] = spool_growth(spool)
    res["archive"] = sizes(os.path.join(d1, "archive")) if os.path.isdir(os.path.join(d1, "archive")) else (0, 0)
    res["outbox_files"] = (len(os.listdir(os.path.join(d1, "ncb-outbox")))
                           if os.path.isdir(os.path.join(d1, "ncb-outbox")) else 0)
    with open(log1) as f:
        res["stderr_lines"] = sum(1 for line in f if not line.startswith("== "))

    d2 = os.path.join(work, engine.replace("+", "_") + "-w2")
    os.makedirs(d2)
    cfg2 = os.path.join(d2, "ncbocr.yaml")
    write_config(cfg2, d2, inbox, engine, 2, args.models)
    log2 = os.path.join(d2, "stderr.log")
    res["w2"] = {}
    for stage in ("fetch", "ocr"):
        print("  %s, 2 workers: %s ..." % (engine, stage), flush=True)
        r = run_stage(args.ncbocr, cfg2, stage, log2)
        res["w2"][stage] = r
        print("    exit %d, cpu %.1f s, wall %.1f s, peak %.0f MB" % (r["rc"], r["cpu"], r["wall"], r["rss_mb"]))
    res["w2_states"] = claim_states(os.path.join(d2, "spool"))
    return res


def failed_runs(results):
    """'engine/workers/stage (rc)' for every stage process that did not exit 0."""
    out = []
    for r in results:
        for key in ("w1", "idle", "w2"):
            for stage, run in r.get(key, {}).items():
                if run["rc"] != 0:
                    out.append("%s/%s/%s (%d)" % (r["engine"], key, stage, run["rc"]))
    return out


def report(meta, results):
    """bench/SIZING.md from the run's facts (meta) and figures (results)."""
    m = meta["machine"]
    lines = []
    say = lambda s="": lines.append(s)
    say("# Sizing: CPU, memory and disk per receipt")
    say()
    say("Written by `%s` on %s (commit %s, build %s)." % (
        meta["command"], meta["started"], meta["commit"], meta["build_type"]))
    say()
    failed = failed_runs(results)
    if failed:
        say("**Not a valid measurement: these runs failed (exit code): %s.** See the stage's stderr.log "
            "(rerun with --keep)." % ", ".join(failed))
        say()
    say("| machine | |")
    say("|---|---|")
    for k in ("cpu", "cores", "ram", "os", "tesseract", "load"):
        say("| %s | %s |" % ({"load": "load average at start (1, 5, 15 min)"}.get(k, k), m[k]))
    say()
    say("Receipts: every k-th of %s (%s). Each receipt is one generated claim email "
        "(fictitious member id and policy number in the body, the receipt attached), read by the real "
        "`fetch` stage from a folder of .eml files; every stage is its own `ncbocr --config C STAGE` "
        "process over a fresh spool, OCR with the default languages and preprocessing. CPU = user + sys "
        "of the process (all its threads) from wait4(2), so a busy machine skews it less than wall time; "
        "wall time and the load average (mean of before and after) are shown so the reader can judge. "
        "Process start-up (loading Tesseract's languages, paddle's networks) is included and spread over "
        "the receipts." % (meta["images"], meta["sample"]))
    say()
    say("## OCR: receipts per hour per core")
    say()
    say("| configuration | receipts | CPU s/receipt | receipts/hour/core | wall s/receipt (1 worker) | load | "
        "peak RSS 1 worker | peak RSS 2 workers | +1 worker |")
    say("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        o1, o2 = r["w1"]["ocr"], r["w2"]["ocr"]
        n = r["receipts"]
        cpu = o1["cpu"] / n
        say("| %s | %d | %.2f | %.0f | %.2f | %.1f | %.0f MB | %.0f MB | %.0f MB |" % (
            r["engine"], n, cpu, 3600.0 / cpu, o1["wall"] / n, o1["load"], o1["rss_mb"], o2["rss_mb"],
            o2["rss_mb"] - o1["rss_mb"]))
    say()
    say("Peak RSS is the whole `ncbocr ocr` process (wait4's ru_maxrss); \"+1 worker\" is the 2-worker peak "
        "minus the 1-worker peak. With tesseract+paddle and `ocr.second_reading: unsettled` the increment "
        "depends on how many receipts paddle reads (its recognition networks load per width bucket on first "
        "use), so budget for tesseract's and paddle's increments together.")
    say()
    say("The same receipts with two OCR workers (one process):")
    say()
    for r in results:
        o2 = r["w2"]["ocr"]
        n = r["receipts"]
        say("- %s: %.2f CPU s/receipt, %.2f wall s/receipt (load %.1f)" % (
            r["engine"], o2["cpu"] / n, o2["wall"] / n, o2["load"]))
    say()
    say("## Every stage, per claim (one process each, 1 OCR worker configured)")
    say()
    say("A run with nothing to do is the same stage run again over the drained spool (start-up, "
        "configuration, locks, journal); the cost per claim is (CPU of the run - CPU of the idle run) / "
        "claims handled. submit writes each NCB request to a file:// outbox, as the quick start does, so "
        "NCB's own response time is not in it.")
    say()
    say("| configuration | stage | claims handled | CPU ms/claim | CPU ms, idle run | wall ms/claim | peak RSS |")
    say("|---|---|---|---|---|---|---|")
    for r in results:
        n = r["receipts"]
        for stage in STAGES:
            s, idle = r["w1"][stage], r["idle"][stage]
            handled = {"submit": r["outbox_files"], "archive": r["states"].get("done", 0)}.get(stage, n)
            if handled:
                per = "%.0f" % (1000 * max(0.0, s["cpu"] - idle["cpu"]) / handled)
                wall = "%.0f" % (1000 * s["wall"] / handled)
            else:
                per = wall = "-"
            say("| %s | %s | %d | %s | %.0f | %s | %.0f MB |" % (
                r["engine"], stage, handled, per, 1000 * idle["cpu"], wall, s["rss_mb"]))
    say()
    say("Where the claims ended (one-worker spool), and exit codes:")
    say()
    for r in results:
        rcs = ", ".join("%s %d" % (s, r["w1"][s]["rc"]) for s in STAGES)
        rcs += "; idle runs " + ", ".join("%d" % r["idle"][s]["rc"] for s in STAGES)
        say("- %s: %s; NCB requests written %d; exit codes %s; stderr lines %d" % (
            r["engine"], ", ".join("%s %d" % kv for kv in r["states"].items()), r["outbox_files"], rcs,
            r["stderr_lines"]))
        if r["engine"] == "tesseract+paddle":
            say("  - paddle's second reading (ocr.second_reading: unsettled, the default) was made for %d of %d "
                "receipts (%d second_error)" % (r["second"][0], r["receipts"], r["second"][1]))
    say()
    say("## Spool growth")
    say()
    for r in results:
        say("- %s: the %d claim emails are %.0f KB each on average (base64 makes an attachment a third "
            "larger in the email than on disk)." % (r["engine"], r["receipts"],
                                                    r["email_bytes"] / 1024.0 / max(1, r["receipts"])))
    say()
    say("Bytes the spool holds after the whole pipeline, by what grows (apparent size / on disk, "
        "4 KiB blocks), per claim and extrapolated to 1,000 claims:")
    say()
    say("| configuration | part | per claim (apparent) | per claim (disk) | per 1,000 claims (disk) |")
    say("|---|---|---|---|---|")
    for r in results:
        c = max(1, r["claims"])
        tot = [0, 0]
        for k, (a, d) in r["parts"].items():
            if k == FIXED:
                continue
            tot[0] += a
            tot[1] += d
            say("| %s | %s | %.1f KB | %.1f KB | %.1f MB |" % (r["engine"], k, a / 1024.0 / c, d / 1024.0 / c,
                                                           d * 1000.0 / c / 1048576))
        say("| %s | **grows with claims, all** | %.1f KB | %.1f KB | **%.1f MB** |" % (
            r["engine"], tot[0] / 1024.0 / c, tot[1] / 1024.0 / c, tot[1] * 1000.0 / c / 1048576))
        a, d = r["parts"][FIXED]
        say("| %s | %s (fixed, not per claim) | %.1f KB in all | %.1f KB in all | - |" % (
            r["engine"], FIXED, a / 1024.0, d / 1024.0))
        a, d = r["archive"]
        done = max(1, r["states"].get("done", 0))
        say("| %s | local archive (`archive.dir`, outside the spool), per archived claim (%d) | %.1f KB | %.1f KB | "
            "%.1f MB |" % (r["engine"], r["states"].get("done", 0), a / 1024.0 / done, d / 1024.0 / done,
                           d * 1000.0 / done / 1048576))
    say()
    say("Load average at the end: %s." % meta["load_end"])
    if meta.get("paddle_sample") and meta["paddle_sample"] < meta["sample"]:
        say()
        say("The configurations with paddle ran on %d of the %d receipts (every k-th), `--paddle-limit %d`." % (
            meta["paddle_sample"], meta["sample"], meta["paddle_sample"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", default=os.path.join(ROOT, "..", "shared", "receipts-dev", "img"))
    ap.add_argument("--limit", type=int, default=24, help="receipts, every k-th of the set")
    ap.add_argument("--paddle-limit", type=int, default=0,
                    help="fewer receipts for the configurations with paddle (0: --limit)")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated, of: " + ", ".join(CONFIGS))
    ap.add_argument("--ncbocr", default=os.path.join(ROOT, "build", "ncbocr"))
    ap.add_argument("--models", default=os.path.join(ROOT, "build", "models"))
    ap.add_argument("--build-type", default="?")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "SIZING.md"))
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (spools, logs)")
    ap.add_argument("--from-json", help="write the report again from the figures a run saved with --json; "
                    "runs nothing")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        with open(args.out, "w") as f:
            f.write(report(saved["meta"], saved["results"]))
        print("sizing: wrote %s from %s" % (args.out, args.from_json))
        if failed_runs(saved["results"]):
            sys.exit("sizing: some stage runs failed: %s" % ", ".join(failed_runs(saved["results"])))
        return
    shown = [a for i, a in enumerate(sys.argv[1:]) if a != "--build-type" and (i == 0 or sys.argv[i] != "--build-type")]
    args.command = " ".join(["nice -n 10 bench/sizing.sh"] + shown)  # sizing.sh passes --build-type
    args.images = os.path.abspath(args.images)
    args.models = os.path.abspath(args.models)
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            sys.exit("sizing: unknown configuration %r (of %s)" % (c, ", ".join(CONFIGS)))
    if not os.path.isdir(args.images):
        sys.exit("sizing: no receipts at %s; give --images DIR" % args.images)
    if not os.access(args.ncbocr, os.X_OK):
        sys.exit("sizing: no ncbocr at %s (bench/sizing.sh builds it)" % args.ncbocr)
    if any("paddle" in c for c in configs) and not os.path.isfile(os.path.join(args.models, "det.onnx")):
        sys.exit("sizing: no paddle models in %s; run scripts/fetch-models.sh %s" % (args.models, args.models))
    m = bench.machine()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        commit += " + uncommitted changes"
    meta = {"command": args.command, "started": started, "commit": commit, "build_type": args.build_type,
            "images": args.images, "machine": m}
    work = tempfile.mkdtemp(prefix="ncbocr-sizing-")
    results = []
    try:
        all_files = pick(args.images, args.limit)
        inbox = os.path.join(work, "inbox")
        email_bytes = write_inbox(all_files, inbox)
        small_inbox, small_files, small_bytes = inbox, all_files, email_bytes
        if args.paddle_limit and args.paddle_limit < len(all_files):
            small_files = pick(args.images, args.paddle_limit)
            small_inbox = os.path.join(work, "inbox-small")
            small_bytes = write_inbox(small_files, small_inbox)
        print("sizing: %d receipts (%d with paddle) from %s; load %s; work in %s" % (
            len(all_files), len(small_files), args.images, m["load"], work), flush=True)
        for f in all_files + small_files:  # warm the page cache for every configuration alike
            with open(f, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        for c in configs:
            files, box, eb = ((small_files, small_inbox, small_bytes) if "paddle" in c
                              else (all_files, inbox, email_bytes))
            results.append(pipeline(args, c, files, work, box, eb))
        meta.update({"sample": len(all_files), "paddle_sample": len(small_files),
                     "load_end": "%.1f %.1f %.1f" % os.getloadavg()})
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"meta": meta, "results": results}, f, indent=1)
        text = report(meta, results)
    finally:
        if args.keep:
            print("sizing: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(text)
    with open(args.out, "w") as f:
        f.write(text)
    print("sizing: wrote %s" % args.out)
    if failed_runs(results):
        sys.exit("sizing: some stage runs failed: %s" % ", ".join(failed_runs(results)))


if __name__ == "__main__":
    main()
