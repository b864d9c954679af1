"""Instructions per request of paperfeed's ingest paths against the bare baseline (valgrind).

CPU time on this shared machine swings by tens of percent between minutes, even in-process
(``bench/ingest_cpu.py``); the number of instructions executed does not (repeat runs agree
within 0.3 %). This script runs both WSGI apps in-process, as ingest_cpu.py does, under
valgrind's callgrind, counting only the measured requests, and with ``--redis`` also counts
the instructions of a private redis-server run under callgrind. Instructions are not time
(cache misses, syscalls and the kernel are not in them), but a change that removes
instructions removes work: use it to compare two versions of the code.

    apt-get install valgrind
    python bench/ingest_icount.py                         # one-event POSTs, app only
    python bench/ingest_icount.py --redis --users 20 --warmup 3000   # + Redis, steady state
    python bench/ingest_icount.py --scenario batch50 --requests 40

Under callgrind everything runs ~50x slower: keep ``--requests`` small. ``--warmup`` runs
uninstrumented first (a user's small hashes and sorted sets change encoding as they grow,
which changes Redis's cost per event).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import private_redis  # noqa: E402

KINDS = ("baseline", "paperfeed")


def run_worker(args) -> None:
    """The measured process (under callgrind): build both apps, then for each kind print
    READY, wait for a line on stdin, run the requests, print DONE, wait again."""
    from bench import ingest_cpu

    redis_url = os.environ.get("PAPERFEED_REDIS_URL")
    redis = contextlib.nullcontext((redis_url, 0)) if redis_url else private_redis()
    with redis as (url, _):
        random.seed(1)
        apps, tokens, papers = ingest_cpu.prepare_apps(url, args.users)
        method, path, batch = ingest_cpu.SCENARIOS[args.scenario]
        for kind in KINDS:
            environs = [ingest_cpu._environ(method, path,
                                            random.choice(tokens[kind]) if batch else "",
                                            ingest_cpu._body(papers, batch) if batch else b"")
                        for _ in range(args.warmup + args.requests)]
            for environ in environs[:args.warmup]:
                ingest_cpu._call(apps[kind], environ)
            print("READY", kind, flush=True)
            sys.stdin.readline()
            for environ in environs[args.warmup:]:
                ingest_cpu._call(apps[kind], environ)
            print("DONE", kind, flush=True)
            sys.stdin.readline()


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], capture_output=True, check=False)


def _total(path: str) -> int:
    match = re.search(r"^(?:summary|totals): (\d+)", Path(path).read_text(), re.M)
    if not match:
        raise RuntimeError(f"no instruction total in {path}")
    return int(match.group(1))


def _newest(pattern: str) -> str:
    return max(glob.glob(pattern), key=os.path.getmtime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["single", "batch50", "trending"],
                        default="single")
    parser.add_argument("--requests", type=int, default=200, help="measured, per app")
    parser.add_argument("--warmup", type=int, default=30, help="per app, not measured")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--redis", action="store_true",
                        help="also count the instructions of Redis (run under callgrind)")
    parser.add_argument("--keep", metavar="DIR",
                        help="write callgrind's profiles to DIR and keep them (callgrind_annotate)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args)
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2

    out = args.keep or tempfile.mkdtemp(prefix="paperfeed-icount-")
    os.makedirs(out, exist_ok=True)
    counts: dict[str, dict[str, float]] = {kind: {} for kind in KINDS}
    with contextlib.ExitStack() as stack:
        env = dict(os.environ)
        redis_pid = None
        if args.redis:
            env["PAPERFEED_REDIS_URL"], redis_pid = stack.enter_context(private_redis(
                runner=["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/redis.%p"],
                extra_args=["--set-proc-title", "no"], timeout=60))
        worker = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={out}/app.%p", sys.executable, __file__, "--worker",
             "--scenario", args.scenario, "--requests", str(args.requests),
             "--warmup", str(args.warmup), "--users", str(args.users)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env)
        pids = [str(worker.pid)] + ([str(redis_pid)] if redis_pid else [])
        instrumenting = False
        for line in worker.stdout:
            word, _, kind = line.strip().partition(" ")
            if word == "READY":
                if not instrumenting:
                    _control("--instr=on", str(worker.pid))
                    instrumenting = True
                for pid in pids:
                    _control("--zero", pid)
            elif word == "DONE":
                _control("--dump=" + kind, str(worker.pid))
                counts[kind]["app"] = _total(_newest(f"{out}/app.*")) / args.requests
                if redis_pid:
                    _control("--dump=" + kind, str(redis_pid))
                    counts[kind]["redis"] = _total(_newest(f"{out}/redis.*")) / args.requests
            else:
                continue
            worker.stdin.write("\n")
            worker.stdin.flush()
        if worker.wait() != 0:
            raise RuntimeError(f"the measured process exited with {worker.returncode}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)

    print(f"{args.scenario}: thousands of instructions per request ({args.requests} measured "
          f"after {args.warmup} unmeasured, {args.users} users)")
    print(f"{'':<12}{'app':>10}" + (f"{'redis':>10}{'total':>10}" if args.redis else ""))
    for kind in KINDS:
        app, redis = counts[kind].get("app", 0.0), counts[kind].get("redis", 0.0)
        print(f"{kind:<12}{app / 1000:>10.1f}"
              + (f"{redis / 1000:>10.1f}{(app + redis) / 1000:>10.1f}" if args.redis else ""))
    base, real = counts["baseline"], counts["paperfeed"]
    print(f"baseline / paperfeed: app {base['app'] / real['app']:.1%}"
          + (f", total {(base['app'] + base['redis']) / (real['app'] + real['redis']):.1%}"
             if args.redis else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
