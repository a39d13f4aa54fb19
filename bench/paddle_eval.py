#!/usr/bin/env python3
"""The paddle OCR engine against Tesseract, run by hand (never by ctest).

    bench/paddle_eval.py [--limit N] [--ncbocr build/ncbocr] [--receipts DIR]

On the first N dev receipts by name that are not in the tuning hold-out
(tests/data/eval/holdout.txt: never benchmark on those), runs
`ncbocr ocr --json --workers 1` once per engine (one thread:
OMP_THREAD_LIMIT=1, OPENCV_FOR_THREADS_NUM=1) and prints, per engine:

  * seconds per receipt (wall time of the run / N) and peak RSS of the run;
  * text-contains: receipts whose key value appears in the text, for total,
    date, company and address, as is and with whitespace ignored on both
    sides (the paddle model drops spaces between English words);
  * word boundaries: on the lines both engines read identically once spaces
    are removed, the share of Tesseract's word boundaries the paddle engine
    also puts there (recall) and the share of its boundaries Tesseract has
    too (precision).

Python 3 standard library only.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ["total", "date", "company", "address"]


def stems(receipts, limit):
    with open(os.path.join(ROOT, "tests/data/eval/holdout.txt")) as f:
        holdout = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    all_stems = sorted(os.path.splitext(n)[0] for n in os.listdir(os.path.join(receipts, "img")))
    return [s for s in all_stems if s not in holdout][:limit]


def run_engine(ncbocr, engine, files):
    env = dict(os.environ, OMP_THREAD_LIMIT="1", OPENCV_FOR_THREADS_NUM="1")
    t0 = time.monotonic()
    p = subprocess.Popen([ncbocr, "ocr", "--engine", engine, "--workers", "1", "--json"] + files,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read()
    _, _, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    docs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    return docs, wall, usage.ru_maxrss / 1024.0


def doc_text(doc):
    return "\n".join(l["text"] for p in doc.get("pages", []) for l in p.get("lines", []))


def doc_lines(doc):
    return [l for p in doc.get("pages", []) for l in p.get("lines", [])]


def contains(text, value, squeeze):
    if not value:
        return False
    if squeeze:
        return re.sub(r"\s+", "", value) in re.sub(r"\s+", "", text)
    return value in text


def boundaries(words):
    """Character offsets (spaces removed) where a word ends inside the line."""
    out, pos = set(), 0
    for w in words[:-1]:
        pos += len(w)
        out.add(pos)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=30)
    ap.add_argument("--ncbocr", default=os.path.join(ROOT, "build/ncbocr"))
    ap.add_argument("--receipts", default=os.path.join(ROOT, "../shared/receipts-dev"))
    a = ap.parse_args()
    chosen = stems(a.receipts, a.limit)
    files = [os.path.join(a.receipts, "img", s + ".jpg") for s in chosen]
    keys = [json.load(open(os.path.join(a.receipts, "key", s + ".json"))) for s in chosen]
    results = {}
    for engine in ["tesseract", "paddle"]:
        docs, wall, rss = run_engine(a.ncbocr, engine, files)
        by_file = {d.get("file"): d for d in docs}
        texts = [doc_text(by_file.get(f, {})) for f in files]
        errors = [d["error"] for d in docs if "error" in d] + \
            [f"{f}: no result" for f in files if f not in by_file]
        if errors:
            print(f"{engine}: {len(errors)} files failed, e.g. {errors[0]}", flush=True)
        row = {"s_per_receipt": wall / len(files), "peak_rss_mb": rss, "docs": by_file}
        for squeeze in (False, True):
            row["ws" if squeeze else "raw"] = {
                f: sum(contains(t, k.get(f, ""), squeeze) for t, k in zip(texts, keys)) for f in FIELDS}
        results[engine] = row
        print(f"{engine}: {row['s_per_receipt']:.2f} s/receipt, peak RSS {rss:.0f} MB; "
              f"contains {row['raw']}; whitespace ignored {row['ws']}", flush=True)

    # Word boundaries on lines both engines read alike.
    agree = tp = fn = fp = 0
    for f in files:
        t_lines = {re.sub(r"\s+", "", l["text"]): [w["text"] for w in l["words"]]
                   for l in doc_lines(results["tesseract"]["docs"].get(f, {}))}
        for l in doc_lines(results["paddle"]["docs"].get(f, {})):
            key = re.sub(r"\s+", "", l["text"])
            if len(key) < 4 or key not in t_lines:
                continue
            agree += 1
            t_b = boundaries(t_lines[key])
            p_b = boundaries([w["text"] for w in l["words"]])
            tp += len(t_b & p_b)
            fn += len(t_b - p_b)
            fp += len(p_b - t_b)
    if agree:
        print(f"word boundaries on {agree} lines read alike: recall {tp / max(1, tp + fn):.3f} "
              f"({tp}/{tp + fn}), precision {tp / max(1, tp + fp):.3f} ({tp}/{tp + fp})")
    print(f"receipts: {len(files)} ({chosen[0]}..{chosen[-1]}, hold-out excluded)")


if __name__ == "__main__":
    sys.exit(main())
