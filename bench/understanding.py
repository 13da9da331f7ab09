"""How well PeerNudge reads texts: per-class precision and recall on the corpus.

    .venv/bin/python -m bench.understanding            # the held-out part
    .venv/bin/python -m bench.understanding --split dev --misses

The held-out part is what the README and the tests quote; the dev part is the
one rules may be tuned on (``--misses`` lists what it gets wrong).
"""

from __future__ import annotations

import argparse
import time

from service.understanding.corpus import CHANGES, CHECK_INS, load, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="heldout", choices=["heldout", "dev", "all"])
    parser.add_argument("--misses", action="store_true", help="list every text read wrong")
    args = parser.parse_args()
    examples = load(None if args.split == "all" else args.split)
    started = time.perf_counter()
    result = score(examples)
    elapsed = time.perf_counter() - started
    print(f"{len(examples)} texts ({args.split}), {elapsed * 1000 / len(examples):.2f} ms each")
    print(f"{'class':<16}{'texts':>6}{'precision':>11}{'recall':>8}")
    for label in sorted(result.total, key=lambda k: (-result.total[k], k)):
        print(
            f"{label:<16}{result.total[label]:>6}{result.precision(label):>11.1%}"
            f"{result.recall(label):>8.1%}"
        )
    print(f"check-in answers read right: {result.share_right(CHECK_INS):.1%}")
    print(f"peer-owned changes read right: {result.share_right(CHANGES):.1%}")
    non_crisis = result.non_crisis_total()
    print(
        f"crisis: recall {result.recall('crisis'):.1%}; non-crisis texts read as crisis: "
        f"{len(result.false_crises)} of {non_crisis}"
    )
    print(
        f"opt-out: recall {result.recall('opt_out'):.1%}; texts not labelled opt-out read as a "
        f"clear opt-out: {len(result.false_opt_outs)}; opt-out texts after which nothing "
        f"automated goes out (opted out, or held and asked): {result.stopped_or_held_share():.1%}"
    )
    if args.misses:
        for example, reading in result.misses:
            print(
                f"  {example.id:<10} {example.label:<15} -> {reading.intent:<15} "
                f"{reading.number or ''!s:<3} {example.text[:90]!r}"
            )


if __name__ == "__main__":
    main()
