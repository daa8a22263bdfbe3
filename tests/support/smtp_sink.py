#!/usr/bin/python3
"""A real SMTP server for Charter's mail tests (Debian's python3-aiosmtpd; run with /usr/bin/python3).

Listens on 127.0.0.1 (port 0: a free one), prints "port N" once it listens, and writes every
message it accepts to DIR as NNNNNN.eml (the data as received) and NNNNNN.json (envelope
sender, recipients, Message-ID), each file complete before it appears (written, then renamed).
Scriptable replies:
  --temporary-failures N   answer the first N messages' data with 451
  --reject ADDRESS         answer RCPT TO:<ADDRESS> with 550 (repeatable)
  --delay-ms N             wait N ms before answering each message's data
Exit code 77 (skipped, for ctest) when aiosmtpd is missing.
"""

import argparse
import asyncio
import email
import json
import os
import signal
import sys

try:
    from aiosmtpd.smtp import SMTP
except ImportError:
    print("python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)", file=sys.stderr)
    sys.exit(77)


class Handler:
    def __init__(self, args):
        self.dir = args.dir
        self.temporary_failures = args.temporary_failures
        self.rejected = {address.lower() for address in args.reject}
        self.delay = args.delay_ms / 1000.0
        self.count = 0
        self.data_commands = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.rejected:
            return "550 5.1.1 <%s>: no such mailbox here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.data_commands <= self.temporary_failures:
            return "451 4.3.0 try again later (%d of %d)" % (self.data_commands, self.temporary_failures)
        self.count += 1
        name = os.path.join(self.dir, "%06d" % self.count)
        content = envelope.original_content or envelope.content
        message = email.message_from_bytes(content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": message.get("Message-ID"),
        }
        for suffix, data in ((".eml", content), (".json", json.dumps(meta).encode())):
            with open(name + suffix + ".tmp", "wb") as out:
                out.write(data)
            os.rename(name + suffix + ".tmp", name + suffix)
        return "250 2.0.0 accepted as %06d" % self.count


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--temporary-failures", type=int, default=0)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--delay-ms", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Handler(args)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False), "127.0.0.1", args.port)
    print("port %d" % server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
