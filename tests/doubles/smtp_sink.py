#!/usr/bin/env python3
"""A real SMTP server on loopback for the alert tests (aiosmtpd).

Listens on 127.0.0.1 at an ephemeral port, writes the port to --port-file
once it accepts connections, and stores every message it takes as
<dir>/NNNN.eml, with the envelope in <dir>/NNNN.env (MAIL FROM, then one
RCPT TO per line). Runs until killed. Exits 77 (skip) without aiosmtpd.
"""
import argparse
import asyncio
import os
import sys

try:
    from aiosmtpd.smtp import SMTP
except ImportError:
    print("smtp_sink: python3-aiosmtpd is not installed", file=sys.stderr)
    sys.exit(77)


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, "%04d" % self.count)
        with open(base + ".env.tmp", "w") as f:
            f.write(envelope.mail_from + "\n")
            for r in envelope.rcpt_tos:
                f.write(r + "\n")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        # The .eml appears last and whole, so a reader never sees half a message.
        os.rename(base + ".env.tmp", base + ".env")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    store = Store(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(store, hostname="smtp-sink.test"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(args.port_file + ".tmp", args.port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
