#!/usr/bin/env python3
"""OCR throughput benchmark: ncbocr against two tesseract CLI baselines.

Run by hand (bench/run.sh builds ncbocr first), never as a timed test. On the
same receipts and languages it measures:

  (a) tesseract IMG OUT, once per file, one after another, defaults (as most
      users script it; Tesseract's OpenMP threads on);
  (b) the same tuned: OMP_THREAD_LIMIT=1, one process per core (xargs -P);
  ncbocr ocr --json --stats: the worker pool with the chosen preprocessing
      (Tesseract alone: OCR_ENGINE=tesseract);
  ncbocr ocr with both engines (OCR_ENGINE=tesseract+paddle), once per
      OCR_SECOND_READING value (always, unsettled, unsettled+header), each run --repeat times
      (default 3) with the median run's wall time reported, its CPU time
      (user + sys, steadier than wall time on a shared machine), peak RSS
      and where the time went, per engine and per step of the paddle
      engine (skipped, with a line saying so, when its models are not
      installed beside the binary);

then ncbocr eval on the same subset for accuracy (and, with a second run on
its cache, the time extraction takes). It prints the ratios and writes
bench/RESULTS.md: the machine, the table, the time per step, peak memory and
accuracy, so speed and accuracy are read together. Python 3 standard library
only.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


LAST_CPU = [0.0]  # user + sys seconds of the last run()


def run(cmd, env=None, stdin=None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
    """Runs cmd; returns (exit code, wall seconds, peak RSS in MB of it and its children).

    Its CPU time (user + sys, it and its children) is left in LAST_CPU[0]."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=stdout, stderr=stderr)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    LAST_CPU[0] = usage.ru_utime + usage.ru_stime
    return p.returncode, time.monotonic() - t0, usage.ru_maxrss / 1024.0


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                ram = "%.1f GiB" % (int(line.split()[1]) / 1048576)
    except OSError:
        pass
    osname = platform.platform()
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    tess_v = (tess.stdout or tess.stderr).splitlines()[0] if (tess.stdout or tess.stderr) else "?"
    load = os.getloadavg()
    return {"cpu": cpu, "cores": os.cpu_count(), "ram": ram, "os": osname, "tesseract": tess_v,
            "load": "%.1f %.1f %.1f" % load}


def pick(images, keys, limit):
    """Every k-th image that has a key, so the subset spans the whole set."""
    names = sorted(f for f in os.listdir(images)
                   if os.path.isfile(os.path.join(images, f))
                   and os.path.exists(os.path.join(keys, os.path.splitext(f)[0] + ".json")))
    if limit and len(names) > limit:
        step = len(names) / limit
        names = [names[int(i * step)] for i in range(limit)]
    return [os.path.join(images, n) for n in names]


def baseline_a(files, lang, out):
    worst_rss, t0 = 0.0, time.monotonic()
    for f in files:
        base = os.path.join(out, os.path.splitext(os.path.basename(f))[0])
        rc, _, rss = run(["tesseract", f, base, "-l", lang])
        if rc != 0:
            print("  (a) tesseract failed on %s" % f, file=sys.stderr)
        worst_rss = max(worst_rss, rss)
    return time.monotonic() - t0, worst_rss


def baseline_b(files, lang, out, procs):
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    script = 'tesseract "$1" "$0/$(basename "${1%.*}")" -l "$LANG_" 2>/dev/null'
    env["LANG_"] = lang
    data = "\0".join(files).encode()
    with tempfile.TemporaryFile() as inp:
        inp.write(data)
        inp.seek(0)
        rc, wall, rss = run(["xargs", "-0", "-P", str(procs), "-n", "1", "sh", "-c", script, out],
                            env=env, stdin=inp)
    return wall, rss


def ncbocr_ocr(binary, files, lang, workers, out_json, env=None):
    with open(out_json, "w") as out, tempfile.TemporaryFile(mode="w+") as err:
        rc, wall, rss = run([binary, "ocr", "--json", "--stats", "--lang", lang, "--workers", str(workers)]
                            + files, stdout=out, stderr=err, env=env)
        err.seek(0)
        stats = None
        for line in err.read().splitlines():
            if line.startswith("{"):
                stats = json.loads(line)
    return rc, wall, rss, stats


def ncbocr_eval(binary, subset_dir, keys, lang, workers, cache, env=None):
    cmd = [binary, "eval", "--images", subset_dir, "--keys", keys, "--lang", lang, "--workers", str(workers),
           "--json", "--ocr-cache", cache]
    with tempfile.TemporaryFile(mode="w+") as out:
        rc, wall, rss = run(cmd, stdout=out, env=env)
        out.seek(0)
        text = out.read()
    try:
        return wall, json.loads(text)
    except ValueError:
        return wall, None


def engine_env(engine, second_reading=None):
    env = dict(os.environ, OCR_ENGINE=engine)
    if second_reading:
        env["OCR_SECOND_READING"] = second_reading
    return env


# The OCR_SECOND_READING values timed with both engines.
MODES = ("always", "unsettled", "unsettled+header")


def two_engine_runs(binary, files, lang, workers, work, repeat):
    """Both engines, per OCR_SECOND_READING value: the median of `repeat` runs.

    Returns {value: {"wall", "cpu", "rss", "stats", "walls", "cpus"}} or None
    when the paddle models are not beside the binary."""
    if not os.path.exists(os.path.join(os.path.dirname(binary), "models", "det.onnx")):
        return None
    out = {}
    for value in MODES:
        runs = []
        for k in range(repeat):
            print("ncbocr ocr, tesseract+paddle, second reading %s, run %d of %d ..." % (value, k + 1, repeat),
                  flush=True)
            rc, wall, rss, stats = ncbocr_ocr(binary, files, lang, workers, os.path.join(work, "two.jsonl"),
                                              env=engine_env("tesseract+paddle", value))
            if rc != 0 or not stats:
                sys.exit("bench: ncbocr ocr with both engines failed (exit %d); see %s" % (rc, work))
            runs.append({"wall": wall, "cpu": LAST_CPU[0], "rss": rss, "stats": stats})
            print("  %.1f s wall, %.1f s CPU, peak %.0f MB" % (wall, LAST_CPU[0], rss))
        runs.sort(key=lambda r: r["wall"])
        median = dict(runs[len(runs) // 2])
        median["walls"] = [r["wall"] for r in runs]
        median["cpus"] = sorted(r["cpu"] for r in runs)
        median["cpu_median"] = median["cpus"][len(runs) // 2]
        median["rss_max"] = max(r["rss"] for r in runs)
        out[value] = median
    return out


def accuracy_row(label, report):
    if not report:
        return "| %s | (eval failed) | | | | |" % label
    a = report["accuracy"]
    return "| %s | %d | %.3f | %.3f | %.3f | %.3f |" % (label, report["receipts"], a["total"], a["date"],
                                                        a["company"], a["address"])


def main():
    global MODES
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", default=os.path.join(ROOT, "..", "shared", "receipts-dev", "img"))
    ap.add_argument("--keys", default=None, help="default: IMAGES/../key")
    ap.add_argument("--limit", type=int, default=40, help="receipts, spread over the set (0: all)")
    ap.add_argument("--lang", default="eng")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--ncbocr", default=os.path.join(ROOT, "build", "ncbocr"))
    ap.add_argument("--before", help="an older ncbocr binary: its accuracy on the subset is shown too")
    ap.add_argument("--before-label", default=None, help="what --before is, for the table")
    ap.add_argument("--skip-baselines", action="store_true", help="ncbocr only (no RESULTS.md)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each two-engine configuration (median)")
    ap.add_argument("--skip-two-engines", action="store_true", help="Tesseract alone only")
    ap.add_argument("--second-readings", default=",".join(MODES),
                    help="the OCR_SECOND_READING values to time with both engines, comma-separated")
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = ap.parse_args()
    MODES = tuple(m for m in args.second_readings.split(",") if m)
    images = os.path.abspath(args.images)
    keys = os.path.abspath(args.keys or os.path.join(images, "..", "key"))
    if not os.path.isdir(images) or not os.path.isdir(keys):
        sys.exit("bench: no receipts at %s (keys %s); give --images DIR [--keys DIR]" % (images, keys))
    if not shutil.which("tesseract") and not args.skip_baselines:
        sys.exit("bench: the tesseract CLI is needed for the baselines (apt-get install tesseract-ocr)")
    files = pick(images, keys, args.limit)
    n = len(files)
    m = machine()
    print("bench: %d receipts from %s, lang %s, %d workers; load %s" % (n, images, args.lang, args.workers,
                                                                         m["load"]))
    work = tempfile.mkdtemp(prefix="ncbocr-bench-")
    try:
        subset = os.path.join(work, "subset")
        os.makedirs(subset)
        for f in files:
            os.symlink(f, os.path.join(subset, os.path.basename(f)))
        res = {}
        # Read every file once first, so no method pays for the disk and the
        # one that runs first (ncbocr) is not the one that warms the cache.
        for f in files:
            with open(f, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        print("ncbocr ocr ...", flush=True)
        rc, wall, rss, stats = ncbocr_ocr(args.ncbocr, files, args.lang, args.workers,
                                          os.path.join(work, "ocr.jsonl"), env=engine_env("tesseract"))
        if rc != 0 or not stats:
            sys.exit("bench: ncbocr ocr failed (exit %d); see %s" % (rc, work))
        res["ncbocr"] = (wall, rss)
        tess_cpu = LAST_CPU[0]
        print("  %.1f s, %.1f receipts/min, peak %.0f MB, %.1f s CPU" % (wall, 60 * n / wall, rss, tess_cpu))
        two = None
        if not args.skip_two_engines:
            two = two_engine_runs(args.ncbocr, files, args.lang, args.workers, work, max(1, args.repeat))
            if two is None:
                print("  (both engines skipped: no paddle models beside %s; scripts/fetch-models.sh)" % args.ncbocr)
        if not args.skip_baselines:
            out_b = os.path.join(work, "b")
            os.makedirs(out_b)
            print("(b) tesseract, OMP_THREAD_LIMIT=1, xargs -P %d ..." % args.workers, flush=True)
            res["b"] = baseline_b(files, args.lang, out_b, args.workers)
            print("  %.1f s" % res["b"][0])
            out_a = os.path.join(work, "a")
            os.makedirs(out_a)
            print("(a) tesseract once per file, defaults ...", flush=True)
            res["a"] = baseline_a(files, args.lang, out_a)
            print("  %.1f s" % res["a"][0])
        print("ncbocr eval (accuracy; OCR again, then extraction alone from its cache) ...", flush=True)
        cache = os.path.join(work, "cache")
        tess_env = engine_env("tesseract")
        eval_wall, report = ncbocr_eval(args.ncbocr, subset, keys, args.lang, args.workers, cache, env=tess_env)
        extract_wall, _ = ncbocr_eval(args.ncbocr, subset, keys, args.lang, args.workers, cache, env=tess_env)
        before = None
        if args.before:
            print("ncbocr eval with %s ..." % args.before, flush=True)
            # Older builds could not limit Tesseract's OpenMP threads
            # themselves; the limit changes their speed, not their text.
            _, before = ncbocr_eval(args.before, subset, keys, args.lang, args.workers,
                                    os.path.join(work, "cache-before"),
                                    env=dict(tess_env, OMP_THREAD_LIMIT="1"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rpm = lambda wall: 60.0 * n / wall
    lines = []
    say = lambda s="": lines.append(s)
    say("# OCR throughput: ncbocr against the tesseract CLI")
    say()
    say("Written by `bench/run.sh --limit %d --lang %s` on %s (commit %s)." % (
        args.limit, args.lang, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                       text=True).stdout.strip() or "?"))
    say()
    say("| machine | |")
    say("|---|---|")
    for k in ("cpu", "cores", "ram", "os", "tesseract", "load"):
        say("| %s | %s |" % ({"load": "load average at start"}.get(k, k), m[k]))
    say()
    say("%d receipts (every %s of %s), language %s, %d workers / processes." % (
        n, "k-th" if args.limit else "one", images, args.lang, args.workers))
    say()
    say("| method | wall s | receipts/min | s/receipt | vs (a) | vs (b) | peak RSS MB |")
    say("|---|---|---|---|---|---|---|")
    order = [("a", "(a) `tesseract IMG OUT` per file, defaults"),
             ("b", "(b) OMP_THREAD_LIMIT=1, `xargs -P %d`" % args.workers),
             ("ncbocr", "ncbocr ocr (pool of %d, preprocessing: %s)" % (stats["workers"], "height=22,rotate=1"))]
    for key, label in order:
        if key not in res:
            continue
        wall, rss = res[key]
        va = "%.2fx" % (res["a"][0] / wall) if "a" in res else "-"
        vb = "%.2fx" % (res["b"][0] / wall) if "b" in res else "-"
        say("| %s | %.1f | %.1f | %.2f | %s | %s | %.0f |" % (label, wall, rpm(wall), wall / n, va, vb, rss))
    say()
    ms = stats["ms"]
    total = sum(ms[k] for k in ("decode", "preprocess", "recognise", "other"))
    extract_ms = 1000.0 * extract_wall / n
    say("Where ncbocr's time goes (summed over workers, per receipt):")
    say()
    say("| step | ms/receipt | share |")
    say("|---|---|---|")
    for k, label in (("decode", "decode (read + JPEG/PNG/PDF)"), ("preprocess", "preprocess (gray, scale)"),
                     ("recognise", "recognise (Tesseract, incl. orientation retries and line re-reads)"),
                     ("other", "other (JSON, bookkeeping)")):
        say("| %s | %.0f | %.1f%% |" % (label, ms[k] / n, 100.0 * ms[k] / total if total else 0))
        if k == "recognise" and "orientation" in ms:
            o = stats.get("orientation", {})
            say("| &nbsp;&nbsp;of which orientation check (%d pages checked, %d read turned, %d kept) | %.0f | %.1f%% |" % (
                o.get("checked", 0), o.get("read_turned", 0), o.get("kept", 0),
                ms["orientation"] / n, 100.0 * ms["orientation"] / total if total else 0))
            say("| &nbsp;&nbsp;of which second readings of money and date lines | %.0f | %.1f%% |" % (
                ms["reread"] / n, 100.0 * ms["reread"] / total if total else 0))
    say("| extract (eval on cached OCR: load + extraction + scoring, wall per receipt) | %.0f | - |" % extract_ms)
    say()
    say("Peak RSS of the ncbocr process: %.0f MB for %d workers (%.0f MB per worker)." % (
        res["ncbocr"][1], stats["workers"], res["ncbocr"][1] / max(1, stats["workers"])))
    say()
    if two:
        say("Both engines (`OCR_ENGINE=tesseract+paddle`), same receipts and workers; each configuration run")
        say("%d times, the run with the median wall time shown (CPU: user + sys of the process, median of the" % (
            len(two[MODES[0]]["walls"])))
        say("runs; all walls in the last column):")
        say()
        say("| OCR_SECOND_READING | read by paddle | wall s | s/receipt | CPU s/receipt | peak RSS MB | per worker | walls s |")
        say("|---|---|---|---|---|---|---|---|")
        say("| (Tesseract alone, above) | 0/%d | %.1f | %.2f | %.2f | %.0f | %.0f | |" % (
            n, res["ncbocr"][0], res["ncbocr"][0] / n, tess_cpu / n, res["ncbocr"][1],
            res["ncbocr"][1] / max(1, stats["workers"])))
        for value in MODES:
            r = two[value]
            st = r["stats"]
            say("| %s | %d/%d | %.1f | %.2f | %.2f | %.0f | %.0f | %s |" % (
                value, st.get("second", {}).get("files", 0), n, r["wall"], r["wall"] / n, r["cpu_median"] / n,
                r["rss_max"], r["rss_max"] / max(1, st["workers"]), " ".join("%.1f" % w for w in r["walls"])))
        say()
        say("Where the time goes with both engines (median run, summed over workers, ms per receipt of the")
        say("%d; the paddle steps are parts of its recognition):" % n)
        say()
        say("| step | " + " | ".join(MODES) + " |")
        say("|---|" + "---|" * len(MODES))
        rows = [("Tesseract: decode", lambda st: st["ms"]["decode"]),
                ("Tesseract: preprocess", lambda st: st["ms"]["preprocess"]),
                ("Tesseract: recognise (incl. orientation, line re-reads)", lambda st: st["ms"]["recognise"]),
                ("paddle: decode", lambda st: st.get("second", {}).get("ms", {}).get("decode", 0)),
                ("paddle: preprocess", lambda st: st.get("second", {}).get("ms", {}).get("preprocess", 0)),
                ("paddle: recognise, all", lambda st: st.get("second", {}).get("ms", {}).get("recognise", 0))]
        steps = sorted(set(k for v in two.values() for k in v["stats"].get("second", {}).get("ms", {})
                           .get("steps", {})))
        order = {"load": 0, "detect": 1, "classify": 2, "recognise": 3}
        for k in sorted(steps, key=lambda k: (order.get(k, 9), k)):
            rows.append(("&nbsp;&nbsp;paddle %s" % {"load": "load (network reads)"}.get(k, k),
                         lambda st, k=k: st.get("second", {}).get("ms", {}).get("steps", {}).get(k, 0)))
        rows.append(("other (JSON, bookkeeping)",
                     lambda st: st["ms"]["other"]))
        for label, get in rows:
            say("| %s | " % label + " | ".join("%.0f" % (get(two[m]["stats"]) / n) for m in MODES) + " |")
        say()
    say("Accuracy on the same receipts (`ncbocr eval`, share correct):")
    say()
    say("| build | receipts | total | date | company | address |")
    say("|---|---|---|---|---|---|")
    if before is not None:
        say(accuracy_row(args.before_label or "before (%s)" % os.path.basename(args.before), before))
    say(accuracy_row("this build", report))
    say()
    say("Targets (2-core machine):")
    say()
    if "a" in res:
        r = res["a"][0] / res["ncbocr"][0]
        say("- ncbocr >= 3x (a): %.2fx — %s" % (r, "met" if r >= 3 else "NOT met"))
    if "b" in res:
        r = res["b"][0] / res["ncbocr"][0]
        say("- ncbocr >= 1.5x (b): %.2fx — %s" % (r, "met" if r >= 1.5 else "NOT met"))
    out = stats["outside_recognition"]
    say("- time outside recognition < 10%%: %.1f%% — %s" % (100 * out, "met" if out < 0.10 else "NOT met"))
    per = res["ncbocr"][1] / max(1, stats["workers"])
    say("- peak RSS < 400 MB per worker: %.0f MB — %s" % (per, "met" if per < 400 else "NOT met"))
    if two:
        for value in MODES:
            r = two[value]
            spr = r["wall"] / n
            say("- both engines (%s) <= 1.5 s a receipt on %d workers: %.2f — %s" % (
                value, args.workers, spr, "met" if spr <= 1.5 else "NOT met"))
            pw = r["rss_max"] / max(1, r["stats"]["workers"])
            say("- both engines (%s) peak RSS <= 600 MB per worker: %.0f MB — %s" % (
                value, pw, "met" if pw <= 600 else "NOT met"))
    say()
    say("On a shared machine the load average above matters: all methods ran in the same session,")
    say("one after another, so their ratios are comparable; absolute times are not.")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if not args.skip_baselines:
        with open(args.results, "w") as f:
            f.write(text)
        print("bench: wrote %s" % args.results)


if __name__ == "__main__":
    main()
