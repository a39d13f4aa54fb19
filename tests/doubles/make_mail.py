#!/usr/bin/env python3
"""Writes test claim emails as .eml files: make_mail.py DIR NAME [--receipt].

With --receipt the email carries a PNG "receipt" big enough (in bytes and
pixels) to be taken as one; without, it has no attachment at all, which the
fetch stage parks for review. The body holds personal-looking text the tests
check never leaks into alerts or metrics.
"""
import os
import random
import struct
import sys
import zlib
from email.message import EmailMessage


def png(width, height, seed):
    rnd = random.Random(seed)
    raw = b"".join(b"\x00" + bytes(rnd.getrandbits(8) for _ in range(width)) for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    directory, name = sys.argv[1], sys.argv[2]
    receipt = "--receipt" in sys.argv[3:]
    m = EmailMessage()
    m["From"] = "Siti Aminah <member-%s@example.com>" % name
    m["To"] = "claims@tpa.example"
    m["Subject"] = "Claim for Siti Aminah, policy POL-2024-00123"
    m["Date"] = "Wed, 18 Dec 2024 10:42:00 +0800"
    m["Message-ID"] = "<%s@example.com>" % name
    m.set_content("Please process my claim. Member ID MBR-778899, policy POL-2024-00123.\n")
    if receipt:
        m.add_attachment(png(300, 200, name), maintype="image", subtype="png", filename="receipt.png")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name + ".eml"), "wb") as f:
        f.write(bytes(m))


if __name__ == "__main__":
    main()
