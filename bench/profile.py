"""Profile the inbound webhook: cProfile over N warm calls, the top functions by cumulative time.

    python -m bench.profile [--calls 200] [--top 35] [--sort cumulative|tottime]

moto answers in-process, so its own work shows up too; read CMDM's frames (app.py, chalicelib/)
and the libraries they call (pynamodb, botocore, twilio) apart from moto's.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--filter", default="", help="only frames whose file matches (e.g. chalicelib)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import logging

    import time_machine

    logging.disable(logging.WARNING)
    from bench import world as w

    world = w.start(clients=20)
    path = "/webhooks/twilio/messages"
    senders = [c["phone"] for c in world.clients]

    def post(i: int) -> None:
        headers, body = w.signed(path, w.sms_form(senders[i % len(senders)], "a question", "SM" + uuid.uuid4().hex))
        response = world.client.http.post(path, headers=headers, body=body)
        assert response.status_code == 200, response.body

    try:
        with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("America/Edmonton")), tick=False):
            for i in range(20):
                post(i)
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(args.calls):
                post(i)
            profiler.disable()
    finally:
        world.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs() if not args.filter else pstats.Stats(profiler, stream=out)
    stats.sort_stats(args.sort)
    if args.filter:
        stats.print_stats(args.filter, args.top)
    else:
        stats.print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
