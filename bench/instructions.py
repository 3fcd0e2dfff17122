"""Instructions per ingest request, counted by valgrind's callgrind: a figure this shared machine's noise cannot move.

    .venv/bin/python bench/instructions.py [--few 5] [--many 45] [--only track]

Makes profile_ingest.py's requests in process (Django's test client, make bench's scratch Postgres
database, reset first) under `valgrind --tool=callgrind`, twice per request kind: `few` and `many`
requests after the same set-up; and the same for a group commit of 8 single messages, stored by calling
the services the view calls (a group cannot form in one thread). The difference over `many - few` is what
one more request costs this Python process, in instructions: repeatable to a fraction of a percent where wall time here
moves by tens of percent from one run to the next. Postgres's own work is not counted (it runs in
its server). Compare commits by running this on each; bench/ANALYSIS.md quotes it. About 2 minutes
for the single message and 6 for the 100-message batch (valgrind runs Python some 50 times slower).
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, VENV_BIN
from bench.profiling import GROUP_COMMIT, django_ready, group_storer, ingest_poster, ingest_requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--few", type=int, default=5)
    parser.add_argument("--many", type=int, default=45)
    parser.add_argument("--only", help="only the requests whose label contains this (e.g. track, 100)")
    parser.add_argument("--requests", type=int, help=argparse.SUPPRESS)  # the run under valgrind
    parser.add_argument("--label", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests is not None:
        _post(args.label, args.requests)
        return
    for label in [*ingest_requests(), GROUP_COMMIT]:
        if args.only and args.only not in label:
            continue
        few, many = (_counted(label, requests) for requests in (args.few, args.many))
        per_request = (many - few) / (args.many - args.few)
        print(f"{label}: {per_request / 1e6:.2f} million instructions per request")


def _counted(label: str, requests: int) -> int:
    """Instructions of one run of this script making `requests` requests of one kind, set-up included."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        str(VENV_BIN / "python"),
        __file__,
        f"--label={label}",
        f"--requests={requests}",
    ]
    # A fixed hash seed: set and dict iteration orders, and so the instructions, repeat from run to run.
    run = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True)
    collected = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or collected is None:
        sys.exit(f"the run under valgrind failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return int(collected.group(1))


def _post(label: str, requests: int) -> None:
    django_ready()
    if label == GROUP_COMMIT:
        send = group_storer()
    else:
        post = ingest_poster()
        path, body = ingest_requests()[label]
        send = lambda: post(path, body)  # noqa: E731
    for _ in range(3):
        send()  # warm: first-request work (plan compilation, staging tables) stays out of the difference
    for _ in range(requests):
        send()


if __name__ == "__main__":
    main()
