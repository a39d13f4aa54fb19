#!/usr/bin/env python3
"""Writes the bundled sample inbox: samples/inbox/*.eml and samples/expected.json.

Every person, clinic, pharmacy, member id and policy number here is made up.
The receipt images are rendered by this script (ImageMagick `convert` with
the DejaVu fonts; the PDF is written by hand), so the samples carry no real
receipt. Output is deterministic for a given ImageMagick version: fixed
boundaries, Message-IDs and dates, no timestamps in the PNGs, a fixed noise
seed. The generated .eml files are committed, so the quick start needs no
ImageMagick; rerun this only to change the samples.

Usage: scripts/make-samples.py [--out samples]
Needs: python3, ImageMagick (convert), fonts-dejavu-core.
"""

import argparse
import base64
import json
import os
import quopri
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal, ROUND_HALF_UP

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
MONO = os.path.join(FONT_DIR, "DejaVuSansMono.ttf")
MONO_BOLD = os.path.join(FONT_DIR, "DejaVuSansMono-Bold.ttf")
SANS_BOLD = os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf")
WIDTH_CHARS = 40
CENT = Decimal("0.01")


def money(x):
    return f"{x.quantize(CENT, ROUND_HALF_UP):,.2f}"


def round_cash(total):
    """Malaysian cash rounding: to the nearest 5 sen."""
    sen = int((total * 100).to_integral_value(ROUND_HALF_UP))
    return Decimal(int(5 * round(sen / 5))) / 100


class Receipt:
    """A receipt's content; lines() lays it out as 40-column text."""

    def __init__(self, key, provider, reg_no, address, phone, date, time, number_label,
                 number, items, sst_reg=None, cash=None, title="RESIT / RECEIPT", footer=None):
        self.key, self.provider, self.reg_no, self.address = key, provider, reg_no, address
        self.phone, self.date, self.time = phone, date, time
        self.number_label, self.number, self.items = number_label, number, items
        self.sst_reg, self.cash, self.title = sst_reg, cash, title
        self.footer = footer or ["Terima kasih / Thank you", "Semoga cepat sembuh"]
        self.subtotal = sum(Decimal(q) * Decimal(p) for _, q, p, _ in items)
        taxable = sum(Decimal(q) * Decimal(p) for _, q, p, t in items if t)
        self.sst = (taxable * Decimal("0.06")).quantize(CENT, ROUND_HALF_UP) if sst_reg else None
        gross = self.subtotal + (self.sst or 0)
        self.total = round_cash(gross)
        self.rounding = self.total - gross
        self.change = Decimal(cash) - self.total if cash else None

    def lines(self):
        """[(text, bold, centred)]"""
        w = WIDTH_CHARS
        row = lambda left, right: (left + right.rjust(w - len(left)), False, False)
        out = [(self.provider, True, True), (f"({self.reg_no})", False, True)]
        out += [(a, False, True) for a in self.address]
        out.append((f"Tel: {self.phone}", False, True))
        if self.sst_reg:
            out.append((f"SST Reg No: {self.sst_reg}", False, True))
        out += [("", False, False), (self.title, True, True), ("-" * w, False, False)]
        out.append(row(f"{self.number_label}:", self.number))
        out.append(row("Tarikh/Date:", f"{self.date} {self.time}"))
        out.append(("-" * w, False, False))
        for name, qty, price, taxable in self.items:
            amount = Decimal(qty) * Decimal(price)
            label = name + (" *" if taxable and self.sst_reg else "")
            out.append((label, False, False))
            out.append(row(f"  {qty} x {money(Decimal(price))}", money(amount)))
        out.append(("-" * w, False, False))
        out.append(row("SUBTOTAL", money(self.subtotal)))
        if self.sst is not None:
            out.append(row("SST 6% (*)", money(self.sst)))
        else:
            out.append(row("SST", "0.00"))
        out.append(row("ROUNDING", money(self.rounding)))
        out.append((f"TOTAL" + f"RM {money(self.total)}".rjust(w - 5), True, False))
        if self.cash:
            out.append(row("CASH", money(Decimal(self.cash))))
            out.append(row("CHANGE", money(self.change)))
        out += [("-" * w, False, False)] + [(f, False, True) for f in self.footer]
        return out

    def expected(self):
        return {
            "provider": self.provider, "registration_no": self.reg_no,
            "date": self.date, "receipt_number": self.number,
            "subtotal": money(self.subtotal), "sst": money(self.sst) if self.sst is not None else None,
            "rounding": money(self.rounding), "total": money(self.total), "currency": "MYR",
        }


def render_image(receipt, path, photo=False):
    """Renders a receipt at about 300 dpi: 32 px text, about 2.7 mm tall."""
    pt, line_h, margin = 32, 44, 60
    char_w = pt * 0.602  # DejaVu Sans Mono advance
    lines = receipt.lines()
    width = int(WIDTH_CHARS * char_w + 2 * margin)
    height = line_h * len(lines) + 2 * margin
    cmd = ["convert", "-size", f"{width}x{height}", "xc:white", "-fill", "black",
           "-pointsize", str(pt)]
    for i, (text, bold, centred) in enumerate(lines):
        if not text:
            continue
        # convert drops leading blanks, so indent by position instead.
        indent = len(text) - len(text.lstrip(" "))
        x = margin + int(indent * char_w)
        x += int((WIDTH_CHARS - len(text)) * char_w / 2) if centred else 0
        y = margin + (i + 1) * line_h - 12
        cmd += ["-font", MONO_BOLD if bold else MONO, "-annotate", f"+{x}+{y}", text.lstrip(" ")]
    if photo:
        # A phone photo: paper on a desk, a little turned, sensor noise, soft focus.
        cmd += ["-bordercolor", "#fbfaf6", "-border", "30", "-background", "#8a8175",
                "-rotate", "1.5", "-seed", "7", "-attenuate", "0.35", "+noise", "Gaussian",
                "-blur", "0x0.7", "-quality", "85"]
    else:
        cmd += ["-quality", "92"]
    cmd += ["-strip", "-define", "png:exclude-chunks=date,time", path]
    subprocess.run(cmd, check=True)


def render_logo(path):
    subprocess.run(["convert", "-size", "64x32", "xc:#1a5fb4", "-fill", "white", "-font", SANS_BOLD,
                    "-pointsize", "13", "-annotate", "+5+21", "SIHAT", "-strip",
                    "-define", "png:exclude-chunks=date,time", path], check=True)


def write_pdf(receipts, path):
    """A PDF with a text layer (Courier), one receipt a page, written by hand."""
    if not isinstance(receipts, list):
        receipts = [receipts]
    esc = lambda s: s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    pages = []  # (width, height, content stream)
    for receipt in receipts:
        lines = receipt.lines()
        size, lead = 10, 14
        width = int(WIDTH_CHARS * size * 0.6 + 40)
        height = lead * len(lines) + 60
        ops = ["BT", f"{lead} TL"]
        y = height - 30
        for text, bold, centred in lines:
            x = 20 + ((WIDTH_CHARS - len(text)) * size * 0.6 / 2 if centred else 0)
            ops.append(f"/{'F2' if bold else 'F1'} {size} Tf 1 0 0 1 {x:.1f} {y} Tm ({esc(text)}) Tj")
            y -= lead
        ops.append("ET")
        pages.append((width, height, "\n".join(ops).encode("latin-1")))

    def page(box, content):
        return (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {box[0]} {box[1]}] "
                f"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents {content} 0 R >>").encode()

    def stream(data):
        return b"<< /Length " + str(len(data)).encode() + b" >>\nstream\n" + data + b"\nendstream"

    # Objects 1-6 as for a one-page PDF; each further page adds its page
    # object and its content stream.
    kids = [3] + [7 + 2 * i for i in range(len(pages) - 1)]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(pages)} >>".encode(),
        page(pages[0][:2], 6),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>",
        stream(pages[0][2]),
    ]
    for i, (w, h, data) in enumerate(pages[1:]):
        objects += [page((w, h), 8 + 2 * i), stream(data)]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    with open(path, "wb") as f:
        f.write(out)


# ---------------------------------------------------------------- emails

def b64(data):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\r\n"


def qp(text):
    out = quopri.encodestring(text.encode("utf-8")).decode().replace("\n", "\r\n")
    return out if out.endswith("\r\n") else out + "\r\n"  # a boundary starts a line


def rfc2047(text):
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def headers(n, sender, subject, date):
    return (f"Return-Path: <{sender[1]}>\r\n"
            f"From: {sender[0]} <{sender[1]}>\r\n"
            f"To: Claims Desk <claims@tpa.example>\r\n"
            f"Subject: {subject}\r\n"
            f"Date: {date}\r\n"
            f"Message-ID: <sample-{n:02d}@mail.example.com>\r\n"
            f"MIME-Version: 1.0\r\n")


def text_part(body, encoding="7bit", charset="us-ascii", subtype="plain"):
    if encoding == "quoted-printable":
        payload = qp(body)
    elif encoding == "base64":
        payload = b64(body.encode("utf-8"))
    else:
        payload = body.replace("\n", "\r\n") + "\r\n"
    return (f"Content-Type: text/{subtype}; charset={charset}\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n{payload}")


def file_part(data, ctype, filename, inline=False, cid=None):
    h = f"Content-Type: {ctype}; name=\"{filename}\"\r\nContent-Transfer-Encoding: base64\r\n"
    h += f"Content-Disposition: {'inline' if inline else 'attachment'}; filename=\"{filename}\"\r\n"
    if cid:
        h += f"Content-ID: <{cid}>\r\n"
    return h + "\r\n" + b64(data)


def multipart(subtype, boundary, parts):
    s = f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n"
    for p in parts:
        s += f"--{boundary}\r\n{p}"
    return s + f"--{boundary}--\r\n"


# ---------------------------------------------------------------- content

RECEIPTS = {
    "klinik-sejahtera": Receipt(
        "klinik-sejahtera", "KLINIK SEJAHTERA SDN BHD", "123456-X",
        ["No. 12, Jalan Bunga Raya 3", "Taman Melati, 53100 Kuala Lumpur",
         "W.P. Kuala Lumpur"], "03-4108 2231", "14/11/2026", "10:15", "Receipt No", "KS-2026-008812",
        [("Consultation / Konsultasi", 1, "35.00", False), ("Paracetamol 500mg", 10, "0.50", False),
         ("Amoxicillin 250mg", 15, "1.20", False), ("Cough Syrup 100ml", 1, "12.80", False)],
        cash="100.00"),
    "farmasi-cahaya": Receipt(
        "farmasi-cahaya", "FARMASI CAHAYA SDN BHD", "987654-K",
        ["Lot 5, Jalan Tun Abdul Razak", "80000 Johor Bahru, Johor"], "07-223 9087",
        "16/11/2026", "19:42", "Invoice No", "INV-77120",
        [("Panadol Actifast 20s", 1, "12.90", False), ("Vitamin C 1000mg 30s", 1, "45.00", True),
         ("Elastic Bandage 7.5cm", 1, "3.55", False), ("Hand Cream 50ml", 1, "16.90", True)],
        sst_reg="J31-1808-32000123", cash="100.00", title="INVOIS / INVOICE"),
    "poliklinik-harmoni": Receipt(
        "poliklinik-harmoni", "POLIKLINIK HARMONI SDN BHD", "456789-A",
        ["88, Lebuh Chulia", "10450 George Town, Pulau Pinang"], "04-261 7730",
        "18/11/2026", "09:05", "Receipt No", "PH/24/113908",
        [("Consultation", 1, "40.00", False), ("Blood Test (FBC)", 1, "28.00", False),
         ("Antihistamine 10mg", 7, "0.80", False)], cash="80.00"),
    "farmasi-seri-murni": Receipt(
        "farmasi-seri-murni", "FARMASI SERI MURNI SDN BHD", "334455-P",
        ["23A, Jalan Burma", "10050 George Town, Pulau Pinang"], "04-228 1145",
        "18/11/2026", "11:37", "Receipt No", "SM-0045521",
        [("Loratadine 10mg 10s", 1, "14.65", False), ("Saline Nasal Spray", 1, "18.33", False)],
        cash="50.00"),
    "pergigian-senyum": Receipt(
        "pergigian-senyum", "KLINIK PERGIGIAN SENYUM SDN BHD", "778899-T",
        ["No. 3, Jalan Plumbum U7/22", "Seksyen 7, 40000 Shah Alam", "Selangor"], "03-5523 6610",
        "20/11/2026", "15:20", "Receipt No", "KPS-2026-1177",
        [("Scaling & Polishing", 1, "120.00", False), ("Dental X-Ray", 1, "45.00", False)],
        cash="200.00"),
    "klinik-keluarga-bahagia": Receipt(
        "klinik-keluarga-bahagia", "KLINIK KELUARGA BAHAGIA SDN BHD", "221133-D",
        ["15, Jalan Sultan Idris Shah", "30000 Ipoh, Perak"], "05-254 8890",
        "23/11/2026", "18:30", "Receipt No", "KKB-88213",
        [("Consultation", 1, "30.00", False), ("Ibuprofen 400mg", 10, "0.60", False),
         ("Medical Certificate", 1, "0.00", False)], cash="50.00"),
    "pusat-perubatan-cempaka": Receipt(
        "pusat-perubatan-cempaka", "PUSAT PERUBATAN CEMPAKA SDN BHD", "665544-M",
        ["Lot 21, Jalan Dato Bandar Tunggal", "70000 Seremban, Negeri Sembilan"], "06-762 4412",
        "25/11/2026", "08:50", "Invoice No", "PPC-INV-30071",
        [("Specialist Consultation", 1, "90.00", False), ("Ultrasound Abdomen", 1, "150.00", False),
         ("Omeprazole 20mg", 14, "1.10", False), ("Probiotic Sachet 10s", 1, "32.00", True)],
        sst_reg="N10-1903-31002245", cash="300.00", title="INVOIS / INVOICE"),
    "klinik-mesra": Receipt(
        "klinik-mesra", "KLINIK MESRA SDN BHD", "556677-W",
        ["No. 8, Jalan Kenanga 2", "Taman Kenanga, 75200 Melaka", "Melaka"], "06-284 3321",
        "27/11/2026", "17:45", "Receipt No", "KM-2026-04410",
        [("Consultation", 1, "35.00", False), ("Cetirizine 10mg", 10, "0.70", False)],
        cash="50.00"),
    # 09: one PDF, two receipts: a clinic visit and, two weeks later, the pharmacy.
    "klinik-mutiara": Receipt(
        "klinik-mutiara", "KLINIK MUTIARA SDN BHD", "512340-W",
        ["7, Jalan Kampung Attap", "50460 Kuala Lumpur", "W.P. Kuala Lumpur"], "03-2274 5518",
        "09/11/2026", "11:20", "Receipt No", "KM-2026-04417",
        [("Consultation / Konsultasi", 1, "45.00", False), ("Throat Swab Test", 1, "38.00", False),
         ("Lozenges 16s", 1, "9.50", False)], cash="100.00"),
    "farmasi-mutiara": Receipt(
        "farmasi-mutiara", "FARMASI PERMATA SDN BHD", "600712-U",
        ["G-12, Jalan Tun Sambanthan", "50470 Kuala Lumpur", "W.P. Kuala Lumpur"], "03-2260 3391",
        "23/11/2026", "17:48", "Receipt No", "FP-0098175",
        [("Salbutamol Inhaler", 1, "21.40", False), ("Spacer Device", 1, "35.00", False),
         ("Face Mask 10s", 2, "6.90", False)], cash="80.00"),
}

MEMBERS = {
    "ahmad": ("Ahmad Faizal bin Hassan", "ahmad.faizal@example.com", "M10234", "POL-2024-00123"),
    "nurul": ("Nurul Aisyah binti Rahman", "nurul.aisyah@example.com", "M22222", "POL-2023-04567"),
    "lim": ("Lim Chee Keong", "cheekeong.lim@example.com", "M30311", "POL-2024-00777"),
    "priya": ("Priya a/p Subramaniam", "priya.s@example.com", "M40420", "POL-2022-01010"),
    "rajesh": ("Rajesh Kumar a/l Muthu", "rajesh.k@example.com", None, None),
    "tan": ("Tan Mei Ling", "meiling.tan@example.com", "M60606", "POL-2024-00606"),
    "faris": ("Muhammad Faris bin Omar", "faris.omar@example.com", "M90909", None),
    "siti": ("Siti Hajar binti Osman", "siti.hajar@example.com", "M90909", "POL-2025-00909"),
}


def build(out):
    tmp = tempfile.mkdtemp(prefix="ncbocr-samples.")
    try:
        files = {}
        for key, r in RECEIPTS.items():
            if key in ("pusat-perubatan-cempaka", "klinik-mesra"):
                write_pdf(r, os.path.join(tmp, key + ".pdf"))
                files[key] = open(os.path.join(tmp, key + ".pdf"), "rb").read()
            elif key in ("klinik-mutiara", "farmasi-mutiara"):
                continue  # together in one PDF, below
            else:
                photo = key == "klinik-keluarga-bahagia"
                ext = "jpg" if key in ("klinik-sejahtera", "poliklinik-harmoni",
                                       "pergigian-senyum") or photo else "png"
                path = os.path.join(tmp, f"{key}.{ext}")
                render_image(r, path, photo=photo)
                files[key] = open(path, "rb").read()
        write_pdf([RECEIPTS["klinik-mutiara"], RECEIPTS["farmasi-mutiara"]],
                  os.path.join(tmp, "two-receipts.pdf"))
        files["two-receipts"] = open(os.path.join(tmp, "two-receipts.pdf"), "rb").read()
        render_logo(os.path.join(tmp, "logo.png"))
        logo = open(os.path.join(tmp, "logo.png"), "rb").read()
    finally:
        shutil.rmtree(tmp)

    emails, expected = [], []

    def add(n, slug, member, subject, date, body_mime, receipts, outcome, note, claims=None):
        name, addr, mid, pol = MEMBERS[member]
        emails.append((f"{n:02d}-{slug}.eml", headers(n, (name, addr), subject, date) + body_mime))
        expected.append({
            "file": f"{n:02d}-{slug}.eml", "fetch": outcome, "note": note,
            "member_name": name, "member_id": mid, "policy_number": pol,
            "receipts": [RECEIPTS[k].expected() | {"key": k} for k in receipts],
        })
        if claims is not None:
            # Claims at the end of the pipeline, when extraction splits an
            # attachment into several receipts: one per receipt.
            expected[-1]["claims"] = claims

    # 01: English, plain text, one JPEG receipt.
    m = MEMBERS["ahmad"]
    add(1, "en-clinic-jpeg", "ahmad", "Medical claim - clinic visit 14 Nov",
        "Sat, 14 Nov 2026 13:02:11 +0800",
        multipart("mixed", "=_s01_mixed", [
            text_part(f"Dear Claims Team,\n\nPlease find attached my clinic receipt for "
                      f"reimbursement.\n\nName: {m[0]}\nMember ID: {m[2]}\nPolicy No: {m[3]}\n"
                      f"Amount: RM {money(RECEIPTS['klinik-sejahtera'].total)}\n\nThank you,\nAhmad"),
            file_part(files["klinik-sejahtera"], "image/jpeg", "receipt_klinik.jpg")]),
        ["klinik-sejahtera"], ["fetched"], "one JPEG receipt; no SST")

    # 02: Malay, quoted-printable UTF-8, PNG receipt with SST 6%.
    m = MEMBERS["nurul"]
    add(2, "ms-pharmacy-sst-png", "nurul", rfc2047("Tuntutan ubat – Farmasi Cahaya"),
        "Mon, 16 Nov 2026 21:15:40 +0800",
        multipart("mixed", "=_s02_mixed", [
            text_part(f"Assalamualaikum tuan/puan,\n\nSaya ingin membuat tuntutan untuk "
                      f"pembelian ubat di farmasi.\nNombor ahli saya {m[2]}, nombor polisi "
                      f"{m[3]}.\nNama: {m[0]}\nJumlah: RM {money(RECEIPTS['farmasi-cahaya'].total)}\n\nTerima kasih.",
                      "quoted-printable", "utf-8"),
            file_part(files["farmasi-cahaya"], "image/png", "resit farmasi.png")]),
        ["farmasi-cahaya"], ["fetched"], "Malay body; SST 6% on starred items")

    # 03: English, two receipts in one email: two claims.
    m = MEMBERS["lim"]
    plain = (f"Hi,\n\nTwo receipts from the same day: the clinic and the pharmacy.\n"
             f"Member ID: {m[2]}\nPolicy No: {m[3]}\n\nRegards,\n{m[0]}")
    html = (f"<html><body><p>Hi,</p><p>Two receipts from the same day: the clinic and the "
            f"pharmacy.<br>Member ID: {m[2]}<br>Policy No: {m[3]}</p>"
            f"<p>Regards,<br>{m[0]}</p></body></html>")
    add(3, "en-two-receipts", "lim", "Claims: clinic + pharmacy (2 receipts)",
        "Wed, 18 Nov 2026 12:40:03 +0800",
        multipart("mixed", "=_s03_mixed", [
            multipart("alternative", "=_s03_alt",
                      [text_part(plain), text_part(html, subtype="html")]),
            file_part(files["poliklinik-harmoni"], "image/jpeg", "clinic.jpg"),
            file_part(files["farmasi-seri-murni"], "image/png", "pharmacy.png")]),
        ["poliklinik-harmoni", "farmasi-seri-murni"], ["fetched", "fetched"],
        "two receipts: two claims, part 1/2 and 2/2; rounding -0.03 on the pharmacy receipt")

    # 04: HTML only, a tiny inline logo in the signature (skipped) and one receipt.
    m = MEMBERS["priya"]
    html = (f"<html><head><style>p {{ font-family: Arial; }}</style></head><body>"
            f"<p>Dear Sir/Madam,</p><p>Attached is my dental receipt.</p>"
            f"<table><tr><td>Member ID:</td><td>{m[2]}</td></tr>"
            f"<tr><td>Policy No:</td><td>{m[3]}</td></tr></table>"
            f"<p>Thanks &amp; regards,<br>{m[0]}<br><img src=\"cid:logo@sihat\" "
            f"width=\"64\" height=\"32\"></p></body></html>")
    add(4, "en-html-logo", "priya", "Dental claim", "Fri, 20 Nov 2026 16:05:59 +0800",
        multipart("mixed", "=_s04_mixed", [
            multipart("related", "=_s04_rel", [
                text_part(html, "quoted-printable", "utf-8", "html"),
                file_part(logo, "image/png", "logo.png", inline=True, cid="logo@sihat")]),
            file_part(files["pergigian-senyum"], "image/jpeg", "dental receipt.jpg")]),
        ["pergigian-senyum"], ["fetched"],
        "HTML-only body; the 64x32 inline logo is skipped (too small)")

    # 05: no member id and no policy number; a phone photo, turned and noisy.
    add(5, "en-photo-no-member-id", "rajesh", "claim", "Mon, 23 Nov 2026 20:11:27 +0800",
        multipart("mixed", "=_s05_mixed", [
            text_part("Hi, please process my claim, receipt attached. Thanks.\n\nSent from my phone"),
            file_part(files["klinik-keluarga-bahagia"], "image/jpeg", "IMG_20261123_201005.jpg")]),
        ["klinik-keluarga-bahagia"], ["fetched"],
        "no member id or policy number anywhere: extraction sends it to review")

    # 06: Malay mixed with Chinese, base64 UTF-8 body, PDF receipt with a text layer.
    m = MEMBERS["tan"]
    add(6, "ms-zh-pdf", "tan", rfc2047("Tuntutan perubatan 医药费报销"),
        "Wed, 25 Nov 2026 10:22:48 +0800",
        multipart("mixed", "=_s06_mixed", [
            text_part(f"Salam sejahtera,\n\nSaya ingin menuntut bayaran balik kos rawatan pakar.\n"
                      f"您好，附件是我的医药收据，请帮忙处理报销，谢谢。\n\n"
                      f"Nama / 姓名: {m[0]} (陈美玲)\nNombor ahli: {m[2]}\n"
                      f"Nombor polisi: {m[3]}\nJumlah / 金额: RM {money(RECEIPTS['pusat-perubatan-cempaka'].total)}\n\nTerima kasih, 谢谢",
                      "base64", "utf-8"),
            file_part(files["pusat-perubatan-cempaka"], "application/pdf", "resit_cempaka.pdf")]),
        ["pusat-perubatan-cempaka"], ["fetched"],
        "PDF receipt (text layer, Courier); SST 6% on one item; Chinese in the body")

    # 07: the member sends the receipt of 01 again.
    m = MEMBERS["ahmad"]
    add(7, "en-resend-duplicate", "ahmad", "Re: Medical claim - clinic visit 14 Nov",
        "Thu, 26 Nov 2026 09:00:00 +0800",
        multipart("mixed", "=_s07_mixed", [
            text_part(f"Hello, resending in case my earlier email did not arrive.\n"
                      f"Member ID: {m[2]}\nPolicy No: {m[3]}\n\nAhmad"),
            file_part(files["klinik-sejahtera"], "image/jpeg", "receipt_klinik (1).jpg")]),
        [], ["duplicate"], "same JPEG bytes as 01: a claim in duplicate, duplicate_of = 01's claim")

    # 08: Malay, the attachment was forgotten.
    m = MEMBERS["nurul"]
    add(8, "ms-no-attachment", "nurul", "Tuntutan klinik", "Fri, 27 Nov 2026 08:30:12 +0800",
        text_part(f"Assalamualaikum,\n\nSaya ingin membuat tuntutan untuk rawatan di klinik "
                  f"semalam.\nNombor ahli saya {m[2]}, nombor polisi {m[3]}.\n\n"
                  f"Terima kasih,\n{m[0]}", "quoted-printable", "utf-8"),
        [], ["review"], "no attachment: one claim in review, reason 'no receipt attachment'")

    # 09: Malay and English, one two-page PDF: a clinic visit on page 1, the
    # pharmacy two weeks later on page 2. Fetch makes one claim of it;
    # extraction splits it into one claim per receipt.
    m = MEMBERS["siti"]
    add(9, "ms-two-receipts-one-pdf", "siti", "Tuntutan: klinik & farmasi (1 PDF)",
        "Tue, 24 Nov 2026 20:03:15 +0800",
        multipart("mixed", "=_s09_mixed", [
            text_part(f"Salam,\n\nSaya imbas dua resit dalam satu PDF: klinik dan farmasi.\n"
                      f"I scanned both receipts into one PDF.\n\n"
                      f"Nama: {m[0]}\nNombor ahli: {m[2]}\nNombor polisi: {m[3]}\n\nTerima kasih."),
            file_part(files["two-receipts"], "application/pdf", "imbasan_resit.pdf")]),
        ["klinik-mutiara", "farmasi-mutiara"], ["fetched"],
        "two receipts in one two-page PDF (text layer): one claim at fetch, two claims after "
        "extraction (pages 1 and 2), each with its own page's fields", claims=2)
    # 10: the member id only in the Subject, without a label; no policy number.
    add(10, "en-subject-only-id", "faris", "Claim - M90909 - Faris", "Sat, 28 Nov 2026 09:12:30 +0800",
        multipart("mixed", "=_s10_mixed", [
            text_part("Hi,\n\nReceipt attached for my clinic visit yesterday.\n\nThanks,\nFaris"),
            file_part(files["klinik-mesra"], "application/pdf", "klinik mesra.pdf")]),
        ["klinik-mesra"], ["fetched"],
        "member id only in the Subject ('Claim - M90909 - Faris'), no label: read from the Subject, submitted")
    expected[-1]["end"] = ["done"]

    inbox = os.path.join(out, "inbox")
    os.makedirs(inbox, exist_ok=True)
    for name, text in emails:
        with open(os.path.join(inbox, name), "w", encoding="ascii", newline="") as f:
            f.write(text)
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"wrote {len(emails)} emails to {inbox} and {os.path.join(out, 'expected.json')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "samples"))
    args = ap.parse_args()
    if not shutil.which("convert") or not os.path.exists(MONO):
        sys.exit("make-samples: needs ImageMagick and fonts-dejavu-core "
                 "(apt-get install imagemagick fonts-dejavu-core)")
    build(os.path.normpath(args.out))


if __name__ == "__main__":
    main()
