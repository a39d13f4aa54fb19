"""Claim emails for the torture harness: cheap to OCR, every receipt unique.

Each receipt is a one-page PDF with a text layer (the sample inbox's writer,
scripts/make-samples.py, draws it), so the ocr stage reads the text instead
of running Tesseract and 200 emails go through in minutes. Every receipt has
its own receipt number and amount, so NCB's copy can be checked by content.
Some emails carry two receipts, some resend an earlier receipt (the same
bytes: a duplicate) and some name no member (extraction sends them to
review). All people, clinics and numbers are made up.
"""

import base64
import datetime
import importlib.util
import os
import random
from decimal import Decimal

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "make_samples", os.path.join(_HERE, "..", "..", "scripts", "make-samples.py"))
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)

CLINICS = [
    ("KLINIK MAJU SDN BHD", "118822-A", ["No. 4, Jalan Mawar 2", "43000 Kajang, Selangor"], "03-8737 1100"),
    ("FARMASI BESTARI SDN BHD", "229933-B", ["Lot 9, Jalan Kenanga", "81100 Johor Bahru, Johor"], "07-355 2200"),
    ("POLIKLINIK SINAR SDN BHD", "33044-C", ["21, Lebuh Pantai", "10300 George Town, Pulau Pinang"], "04-262 3300"),
]
ITEMS = [("Consultation", "30.00"), ("Paracetamol 500mg", "0.50"), ("Blood Test (FBC)", "28.00"),
         ("Cough Syrup 100ml", "12.80"), ("Antihistamine 10mg", "0.80"), ("Dressing", "15.00")]


def receipt_pdf(rnd, n, today):
    name, reg, addr, phone = CLINICS[n % len(CLINICS)]
    day = today - datetime.timedelta(days=1 + n % 20)
    items = [(ITEMS[0][0], 1, ITEMS[0][1], False)]
    for item, price in rnd.sample(ITEMS[1:], 2):
        items.append((item, rnd.randint(1, 9), price, False))
    # A unique cent amount on the last line makes every total unique.
    items.append(("Service charge", 1, "%d.%02d" % (n // 100, n % 100), False))
    number = "TR-%06d" % n
    r = samples.Receipt("t%d" % n, name, reg, addr, phone, day.strftime("%d/%m/%Y"), "10:%02d" % (n % 60),
                        "Receipt No", number, items, cash="500.00")
    path = os.path.join("/tmp", "torture-receipt-%d-%d.pdf" % (os.getpid(), n))
    samples.write_pdf(r, path)
    data = open(path, "rb").read()
    os.unlink(path)
    return data, number, samples.money(r.total)


def make(count, seed, today=None):
    """count emails: [{"id", "raw": bytes, "receipts": [{"number", "total", "sha"...}], "expect"}]."""
    import hashlib
    rnd = random.Random(seed)
    today = today or datetime.date.today()
    out, made, n = [], [], 0
    for i in range(count):
        kind = "one"
        roll = rnd.random()
        if roll < 0.10:
            kind = "two"
        elif roll < 0.15 and made:
            kind = "resend"
        elif roll < 0.18:
            kind = "no-member"
        parts, receipts = [], []
        if kind == "resend":
            data, number, total = rnd.choice(made)
            parts.append(samples.file_part(data, "application/pdf", "resit_%s.pdf" % number))
            receipts.append({"number": number, "total": total, "sha": hashlib.sha256(data).hexdigest(),
                             "resend": True})
        else:
            for _ in range(2 if kind == "two" else 1):
                n += 1
                data, number, total = receipt_pdf(rnd, n, today)
                if kind != "no-member":  # a resend names its member: it must reach NCB once
                    made.append((data, number, total))
                parts.append(samples.file_part(data, "application/pdf", "resit_%s.pdf" % number))
                receipts.append({"number": number, "total": total, "sha": hashlib.sha256(data).hexdigest()})
        member = "" if kind == "no-member" else "Member ID: T%05d\nPolicy No: POL-2026-%05d\n" % (i, i)
        body = ("Dear Claims Team,\n\nPlease find my receipt attached.\n\nName: Test Member %d\n%s"
                "\nThank you" % (i, member))
        date = (today - datetime.timedelta(days=1)).strftime("%a, %d %b %Y 10:00:00 +0800")
        head = samples.headers(i % 100, ("Test Member %d" % i, "member%d@example.com" % i),
                               "Medical claim %d" % i, date).replace(
            "<sample-%02d@mail.example.com>" % (i % 100), "<torture-%d-%d@mail.example.com>" % (seed, i))
        raw = head + samples.multipart("mixed", "=_t%d" % i, [samples.text_part(body)] + parts)
        out.append({"id": "t%08d" % i, "raw": raw.encode("ascii"), "kind": kind, "receipts": receipts})
    return out


def b64(raw):
    return base64.b64encode(raw).decode()
