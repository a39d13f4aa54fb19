#!/usr/bin/env python3
"""Writes N claims into SPOOL/ready/ as extraction would leave them, for the
shell tests of `ncbocr submit` (which must not depend on OCR being built).

    make_ready_claims.py SPOOL N [--bad-date I]

Each claim gets claim.json (the manifest, in the shape claim.cc reads) and
extract.json (the field values). --bad-date I gives claim I a service date
NCB refuses (15/12/2024), so NCB answers 400. Prints the claim ids.
"""
import argparse
import datetime
import hashlib
import json
import os


def main():
    p = argparse.ArgumentParser()
    p.add_argument("spool")
    p.add_argument("n", type=int)
    p.add_argument("--bad-date", type=int, default=-1)
    args = p.parse_args()
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    for i in range(args.n):
        # The index leads the random part so claims sort (and are submitted)
        # in the order made: the tests inject faults by position.
        cid = "%s-%02x%06x" % (stamp, i % 256, int.from_bytes(os.urandom(3), "big"))
        d = os.path.join(args.spool, "ready", cid)
        os.makedirs(d, mode=0o700)
        manifest = {
            "id": cid, "state": "ready", "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": {"kind": "eml", "email_id": "mail-%d" % i, "message_id": "", "source_key": cid,
                       "part_index": 0, "part_count": 1, "received_at": ""},
            "attachment": {"filename": "receipt_%d.jpg" % i, "content_type": "image/jpeg",
                           "sha256": hashlib.sha256(cid.encode()).hexdigest(), "size": 1000,
                           "stored_name": "original.jpg"},
            "skipped": [], "attempts": 0, "next_attempt_at": "", "resume_state": None, "reason": "",
            "review_reasons": [], "confidence": 0.95, "ncb_reference": "", "submitted_at": "",
            "duplicate_of": "", "archived_path": "", "history": [], "notes": {},
        }
        date = "15/12/2024" if i == args.bad_date else "2024-12-15"
        extract = {"confidence": 0.95, "fields": {
            "service_date": {"value": date}, "total_amount": {"value": "%d.50" % (100 + i)},
            "receipt_number": {"value": "RCP-%d" % i}, "policy_number": {"value": "POL-%d" % i}}}
        for name, obj in (("claim.json", manifest), ("extract.json", extract)):
            with open(os.path.join(d, name), "w") as f:
                json.dump(obj, f)
            os.chmod(os.path.join(d, name), 0o600)
        print(cid)


if __name__ == "__main__":
    main()
