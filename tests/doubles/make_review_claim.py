#!/usr/bin/env python3
"""Writes one claim into SPOOL/STATE/ as the pipeline would have left it there,
for the shell tests of the clerk's commands (which must not depend on OCR).

    make_review_claim.py SPOOL STATE [--failed-at STAGE_STATE] [--no-total]
                         [--sender ADDR]

The claim gets claim.json (with a history ending in STATE; for failed, a move
from --failed-at), original.jpg, email.json, ocr.json and extract.json with
every field NCB needs except, with --no-total, the total. Prints the id.
"""
import argparse
import datetime
import hashlib
import json
import os


def field(value, conf, source="ocr"):
    return {"value": value, "confidence": conf, "source": source}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("spool")
    p.add_argument("state", choices=["review", "failed"])
    p.add_argument("--failed-at", default="fetched")
    p.add_argument("--no-total", action="store_true")
    p.add_argument("--sender", default="member@example.com")
    a = p.parse_args()
    now = datetime.datetime.now(datetime.timezone.utc)
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    cid = "%s-%08x" % (now.strftime("%Y%m%d-%H%M%S"), int.from_bytes(os.urandom(4), "big"))
    history = [{"at": at, "from": "", "to": "fetched", "actor": "fetch", "reason": ""}]
    if a.state == "review":
        history += [{"at": at, "from": "fetched", "to": "ocred", "actor": "ocr", "reason": ""},
                    {"at": at, "from": "ocred", "to": "review", "actor": "extract", "reason": "total unclear"}]
    else:
        history += [{"at": at, "from": a.failed_at, "to": "failed", "actor": "test", "reason": "gave up"}]
    manifest = {
        "id": cid, "state": a.state, "created_at": at,
        "source": {"kind": "eml", "email_id": "mail-" + cid, "message_id": "", "source_key": cid,
                   "part_index": 0, "part_count": 1, "received_at": at},
        "attachment": {"filename": "receipt.jpg", "content_type": "image/jpeg",
                       "sha256": hashlib.sha256(cid.encode()).hexdigest(), "size": 9,
                       "stored_name": "original.jpg"},
        "skipped": [], "attempts": 0, "next_attempt_at": "", "resume_state": None,
        "reason": history[-1]["reason"], "review_reasons": ["total unclear"], "confidence": 0.42,
        "ncb_reference": "", "submitted_at": "", "duplicate_of": "", "archived_path": "",
        "history": history, "notes": {},
    }
    fields = {"service_date": field("2024-12-15", 0.9), "receipt_number": field("RCP-77", 0.9),
              "total_amount": field(None if a.no_total else "88.00", 0.3),
              "policy_number": field("POL-2024-00123", 0.95, "email")}
    extract = {"fields": fields, "confidence": 0.42, "decision": "review", "reasons": ["total unclear"]}
    d = os.path.join(a.spool, a.state, cid)
    os.makedirs(d, mode=0o700)
    files = {"claim.json": json.dumps(manifest), "extract.json": json.dumps(extract),
             "email.json": json.dumps({"from_address": a.sender, "subject": "claim"}),
             "ocr.json": json.dumps({"pages": [{"index": 0, "text": "KLINIK DESA\nJUMLAH RM 88.00"}]}),
             "original.jpg": "jpegbytes"}
    for name, text in files.items():
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
    print(cid)


if __name__ == "__main__":
    main()
