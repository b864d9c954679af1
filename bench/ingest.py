"""Ingest benchmark: paperfeed under gunicorn vs a bare Flask baseline, same settings.

Starts a private redis-server on a free loopback port (never touches 127.0.0.1:6379),
imports the demo catalogue, registers users, and drives three scenarios for a bounded
time each: single-event POSTs, 50-event batches, and GET /v1/trending. Prints requests/s,
events/s, p50/p99 latency, and the ratio paperfeed / baseline measured in this run.

    python bench/ingest.py                  # baseline, then paperfeed, with ratios
    python bench/ingest.py --baseline       # the bare baseline only
    python bench/ingest.py --no-baseline    # paperfeed only
    python bench/ingest.py --seconds 5 --client python

The load generator shares the machine's cores with the server: ``wrk`` (apt install wrk)
is much lighter than the Python client and is used when installed.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    Result,
    cpu_seconds,
    free_port,
    gunicorn,
    private_redis,
    run_python,
    run_wrk,
)

SCENARIOS = [("single", "POST", "/v1/events", 1), ("batch50", "POST", "/v1/events", 50),
             ("trending", "GET", "/v1/trending", 0)]
TARGET = 0.8


def demo_paper_ids() -> list[str]:
    from backend import importer
    from backend.cli import demo_catalogue_path

    return [p["paper_id"] for p in importer.read_papers(demo_catalogue_path()).papers]


def prepare_paperfeed(redis_url: str, base: str, users: int) -> list[str]:
    import http.client

    from backend.cli import load_demo, open_store
    from backend.config import load_config

    config = load_config({"REDIS_URL": redis_url})
    store = open_store(config)
    load_demo(store, quiet=True)
    store.client.close()
    host, port = base.split("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port))
    tokens = []
    for _ in range(users):
        conn.request("POST", "/v1/users")
        response = conn.getresponse()
        body = json.loads(response.read())
        if response.status != 201:
            raise RuntimeError(f"registration failed: {response.status} {body}")
        tokens.append(body["token"])
    conn.close()
    return tokens


def prepare_baseline(redis_url: str, users: int) -> list[str]:
    import redis

    client = redis.Redis.from_url(redis_url)
    tokens = [uuid.uuid4().hex for _ in range(users)]
    client.mset({f"bl:token:{t}": f"u{i}" for i, t in enumerate(tokens)})
    client.close()
    return tokens


def measure(base: str, tokens: list[str], papers: list[str], scenario, args) -> Result:
    name, method, path, batch = scenario
    ts = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    if args.client == "wrk":
        return run_wrk(base, method, path, tokens=tokens if method == "POST" else [],
                       papers=papers, batch=batch, ts=ts, seconds=args.seconds,
                       connections=args.connections, threads=args.wrk_threads)
    import random

    def body() -> bytes:
        return json.dumps({"events": [
            {"id": str(uuid.uuid4()), "type": random.choice(["open", "open", "save"]),
             "paper_id": random.choice(papers), "ts": ts, "source": "list"}
            for _ in range(batch)]}).encode()

    return run_python(base, method, path, make_body=body if batch else None,
                      tokens=tokens if method == "POST" else [], seconds=args.seconds,
                      connections=args.connections)


@contextmanager
def service(kind: str, args) -> Iterator[tuple[str, list[str], list[int]]]:
    """Run one service (its own private Redis + gunicorn); yield (base URL, tokens, pids of
    the Redis server and the gunicorn master)."""
    with private_redis() as (redis_url, redis_pid):
        env = {"PAPERFEED_REDIS_URL": redis_url}
        if kind == "paperfeed":
            app_spec = "backend:create_app()"
            if args.rate_limits:
                env.update(PAPERFEED_RATELIMIT_REGISTER="1000000/hour",
                           PAPERFEED_RATELIMIT_EVENTS="100000000/minute",
                           PAPERFEED_RATELIMIT_EVENTS_PER_IP="100000000/minute")
            else:
                env["PAPERFEED_RATELIMIT_ENABLED"] = "false"
        else:
            app_spec = "bench.common:baseline_app()"
        with gunicorn(app_spec, free_port(), args.workers, args.threads, env,
                      "/readyz") as (base, gunicorn_pid):
            if kind == "paperfeed":
                tokens = prepare_paperfeed(redis_url, base, args.users)
            else:
                tokens = prepare_baseline(redis_url, args.users)
            print(f"{kind}: gunicorn gthread {args.workers}x{args.threads} on {base}, "
                  f"{len(tokens)} users", flush=True)
            yield base, tokens, [redis_pid, gunicorn_pid]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--baseline", action="store_true", help="only the bare baseline")
    mode.add_argument("--no-baseline", action="store_true", help="only paperfeed")
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="repeat; keep the best")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--client", choices=["wrk", "python"],
                        default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument("--no-rate-limits", dest="rate_limits", action="store_false",
                        help="disable the rate limits (default: on, with limits too high to hit)")
    parser.add_argument("--scenario", action="append", choices=[name for name, *_ in SCENARIOS],
                        help="run only this scenario (repeat for several; default: all)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    scenarios = [s for s in SCENARIOS if not args.scenario or s[0] in args.scenario]

    papers = demo_paper_ids()
    kinds = [k for k, skip in (("baseline", args.no_baseline), ("paperfeed", args.baseline))
             if not skip]
    print(f"{args.client}, {args.connections} connections, {args.seconds:g} s per scenario, "
          f"{args.rounds} round(s), best round kept", flush=True)
    runs: dict[str, dict[str, Result]] = {kind: {} for kind in kinds}
    # paperfeed / baseline of each round's back-to-back pair, per scenario
    paired: dict[str, list[float]] = {name: [] for name, *_ in scenarios}
    # server CPU (gunicorn workers + Redis) per request, per scenario and kind, every round
    cpu_ms: dict[str, dict[str, list[float]]] = {
        kind: {name: [] for name, *_ in scenarios} for kind in kinds}
    with ExitStack() as stack:
        services = {kind: stack.enter_context(service(kind, args)) for kind in kinds}
        # Interleave baseline and paperfeed per scenario so both see the same background
        # load; keep each one's best round.
        for round_number in range(args.rounds):
            for scenario in scenarios:
                name, _, _, batch = scenario
                pair = {}
                for kind in kinds:
                    base, tokens, pids = services[kind]
                    redis_before, gunicorn_before = cpu_seconds(pids[:1]), cpu_seconds(pids[1:])
                    result = pair[kind] = measure(base, tokens, papers, scenario, args)
                    per_ms = 1000 / max(1, result.requests)
                    redis_ms = (cpu_seconds(pids[:1]) - redis_before) * per_ms
                    per_request = redis_ms + (cpu_seconds(pids[1:]) - gunicorn_before) * per_ms
                    cpu_ms[kind][name].append(per_request)
                    best = runs[kind].get(name)
                    if best is None or result.rps > best.rps:
                        runs[kind][name] = result
                    events = f"{result.rps * batch:9.0f} events/s" if batch else " " * 18
                    print(f"  [{round_number + 1}] {kind:<9} {name:<9} {result.rps:8.0f} req/s "
                          f"{events}  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms"
                          f"  errors {result.errors}  server CPU {per_request:.3f} ms/req"
                          f" (Redis {redis_ms:.3f})",
                          flush=True)
                if len(pair) == 2 and pair["baseline"].rps:
                    paired[name].append(pair["paperfeed"].rps / pair["baseline"].rps)

    if len(kinds) == 2:
        print("\nbest round of each; 'ratio' is paperfeed / baseline of the bests, 'paired' the "
              "median of the rounds' back-to-back ratios, 'cpu' baseline / paperfeed server CPU "
              "per request (gunicorn workers + Redis, median over rounds): the throughput "
              "ratio on a quiet CPU-bound machine, less sensitive to background load; 'cpu "
              "min' the same of each one's least CPU per request (background load only ever "
              "adds to it)")
        print(f"{'scenario':<10}{'baseline':>14}{'paperfeed':>14}{'ratio':>8}{'paired':>8}"
              f"{'cpu':>7}{'cpu min':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>16}")
        for name, _, _, batch in scenarios:
            base, real = runs["baseline"][name], runs["paperfeed"][name]
            scale = batch or 1
            unit = "ev/s" if batch else "req/s"
            ratio = real.rps / base.rps if base.rps else 0.0
            median = statistics.median(paired[name]) if paired[name] else 0.0
            base_cpu = statistics.median(cpu_ms["baseline"][name])
            real_cpu = statistics.median(cpu_ms["paperfeed"][name])
            cpu_ratio = base_cpu / real_cpu if real_cpu else 0.0
            least = min(cpu_ms["baseline"][name]) / min(cpu_ms["paperfeed"][name])
            flag = "" if min(ratio, median, cpu_ratio) >= TARGET else "  < 80%"
            print(f"{name:<10}{base.rps * scale:>9.0f} {unit:<4}{real.rps * scale:>9.0f} "
                  f"{unit:<4}{ratio:>7.0%}{median:>8.0%}{cpu_ratio:>7.0%}{least:>9.0%}"
                  f"{real.p50_ms:>9.2f}"
                  f"{real.p99_ms:>9.2f}{base_cpu:>8.3f}/{real_cpu:.3f}{flag}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {platform.machine()} {platform.processor()}",
            "args": vars(args),
            "paired_ratios": paired,
            "server_cpu_ms_per_request": cpu_ms,
            "runs": {kind: {name: {**r.__dict__, "rps": r.rps} for name, r in res.items()}
                     for kind, res in runs.items()},
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
