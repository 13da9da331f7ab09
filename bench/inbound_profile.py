"""Where a worker's time goes when it handles a stored text (no provider call).

    .venv/bin/python -m bench.inbound_profile [--texts 400] [--top 25]

Enrols one peer per text on a scratch SQLite database, stores a DONE from each
(as the webhook does), then handles them one after another with
``service.conversation.handle_next`` under cProfile and prints the handling
rate and the functions with the most cumulative time. Sending the reply is left
out: ``bench.send_throughput`` measures that.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from bench.common import enrol_demo_peers, header, runtime_for, scratch_settings
from service.conversation import handle_next
from service.inbound import IncomingSms, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    header(f"Handling {args.texts} stored DONE texts, one per peer, SQLite, no provider")
    with scratch_settings() as settings:
        runtime = runtime_for(settings)
        phones = enrol_demo_peers(runtime, args.texts)
        for n, phone in enumerate(phones):
            store(runtime, IncomingSms(f"SM{n:032d}", phone, None, "DONE"))
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for phone in phones:
            handle_next(runtime, phone)
        profile.disable()
        seconds = time.perf_counter() - started
        runtime.close()
    print(f"{args.texts / seconds:.0f} texts/s handled under the profiler ({seconds:.1f} s)")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
