"""CPU per request of paperfeed's ingest paths against the bare baseline, in-process.

``bench/ingest.py`` measures throughput under gunicorn, which on a shared 2-core machine
swings by 2-4x between runs. This script takes the HTTP server and the load generator out:
it calls each WSGI app directly (a prepared WSGI environ per request, the body consumed as
gunicorn would) against one private Redis, and reports the app's CPU (``process_time``)
and the Redis server's CPU per request, interleaving baseline and paperfeed rounds. What
the server adds per request (gunicorn's parsing and socket work) is the same for both.

    python bench/ingest_cpu.py                       # 5 rounds of 2,000 requests per scenario
    python bench/ingest_cpu.py --scenario single --profile /tmp/single.prof
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import private_redis  # noqa: E402

SCENARIOS = {"single": ("POST", "/v1/events", 1), "batch50": ("POST", "/v1/events", 50),
             "trending": ("GET", "/v1/trending", 0)}
KINDS = ("open", "open", "open", "open", "save", "dismiss")


def _environ(method: str, path: str, token: str, body: bytes) -> dict:
    return {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "HTTP_HOST": "127.0.0.1:5000",
        "HTTP_USER_AGENT": "wrk", "HTTP_AUTHORIZATION": f"Bearer {token}" if token else "",
        "CONTENT_TYPE": "application/json" if body else "",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http", "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _body(papers: list[str], batch: int) -> bytes:
    ts = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps({"events": [
        {"id": str(uuid.uuid4()), "type": random.choice(KINDS),
         "paper_id": random.choice(papers), "ts": ts, "source": "list"}
        for _ in range(batch)]}, separators=(",", ":")).encode()


def _call(app, environ: dict) -> int:
    status = []
    chunks = app(environ, lambda s, h, e=None: status.append(s))
    for _ in chunks:
        pass
    if hasattr(chunks, "close"):
        chunks.close()
    return int(status[0].split()[0])


def prepare_apps(redis_url: str, users: int) -> tuple[dict, dict[str, list[str]], list[str]]:
    """Both WSGI apps on one Redis, the demo catalogue imported, ``users`` users of each
    registered, rate limits too high to hit, what was built frozen out of the garbage
    collector's passes: ``(apps, tokens, paper ids)`` by kind."""
    os.environ["PAPERFEED_REDIS_URL"] = redis_url
    os.environ.update(PAPERFEED_RATELIMIT_REGISTER="1000000/hour",
                      PAPERFEED_RATELIMIT_EVENTS="100000000/minute",
                      PAPERFEED_RATELIMIT_EVENTS_PER_IP="100000000/minute")
    from backend import create_app
    from backend.cli import load_demo
    from backend.extensions import get_store
    from bench.common import baseline_app
    from bench.ingest import demo_paper_ids, prepare_baseline

    papers = demo_paper_ids()
    apps = {"baseline": baseline_app(), "paperfeed": create_app()}
    with apps["paperfeed"].app_context():
        store = get_store()
        load_demo(store, quiet=True)
        tokens = {"paperfeed": [store.create_user(datetime.now(UTC))[1] for _ in range(users)],
                  "baseline": prepare_baseline(redis_url, users)}
    # as backend.server does in each gunicorn worker once the app is built: without it the
    # collector's full passes over everything loaded land in the measured requests
    gc.freeze()
    return apps, tokens, papers


def run_round(app, scenario: str, tokens: list[str], papers: list[str], requests: int,
              redis_process, profile: cProfile.Profile | None = None) -> tuple[float, float]:
    """Milliseconds of app CPU and of Redis CPU per request over ``requests`` requests."""
    method, path, batch = SCENARIOS[scenario]
    environs = [_environ(method, path, random.choice(tokens) if batch else "",
                         _body(papers, batch) if batch else b"") for _ in range(requests)]
    expected = 202 if batch else 200
    redis_before = sum(redis_process.cpu_times()[:2])
    if profile:
        profile.enable()
    start = time.process_time()
    for environ in environs:
        status = _call(app, environ)
        if status != expected:
            raise RuntimeError(f"{scenario}: status {status}")
    app_cpu = time.process_time() - start
    if profile:
        profile.disable()
    redis_cpu = sum(redis_process.cpu_times()[:2]) - redis_before
    return app_cpu * 1000 / requests, redis_cpu * 1000 / requests


def main(argv: list[str] | None = None) -> int:
    import psutil

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--requests", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--profile", help="write paperfeed's cProfile stats here")
    parser.add_argument("--commandstats", action="store_true",
                        help="print Redis's per-command CPU (both apps' commands) at the end")
    args = parser.parse_args(argv)
    scenarios = list(SCENARIOS) if args.scenario == "all" else [args.scenario]

    with private_redis() as (redis_url, redis_pid):
        apps, tokens, papers = prepare_apps(redis_url, args.users)
        redis_process = psutil.Process(redis_pid)
        profile = cProfile.Profile() if args.profile else None
        print(f"in-process, {args.requests} requests x {args.rounds} rounds per scenario; "
              "CPU ms per request (least over rounds)")
        print(f"{'scenario':<10}{'baseline app':>14}{'+redis':>8}{'paperfeed app':>15}"
              f"{'+redis':>8}{'app ratio':>11}{'total ratio':>13}")
        for scenario in scenarios:
            cpu: dict[str, list[tuple[float, float]]] = {"baseline": [], "paperfeed": []}
            for kind in apps:  # warm-up
                run_round(apps[kind], scenario, tokens[kind], papers, 200, redis_process)
            for _ in range(args.rounds):
                for kind in apps:
                    cpu[kind].append(run_round(
                        apps[kind], scenario, tokens[kind], papers, args.requests,
                        redis_process, profile if kind == "paperfeed" else None))
            # the least of the rounds: background load on a shared machine only ever adds
            (b_app, b_redis), (p_app, p_redis) = (
                (min(a for a, _ in cpu[k]), min(r for _, r in cpu[k]))
                for k in ("baseline", "paperfeed"))
            print(f"{scenario:<10}{b_app:>14.3f}{b_redis:>8.3f}{p_app:>15.3f}{p_redis:>8.3f}"
                  f"{b_app / p_app:>10.0%}{(b_app + b_redis) / (p_app + p_redis):>13.0%}")
        if args.commandstats:
            import redis

            stats = redis.Redis.from_url(redis_url).info("commandstats")
            for name, stat in sorted(stats.items(), key=lambda kv: -kv[1]["usec"])[:12]:
                print(f"  {name:<32}{stat['calls']:>10} calls{stat['usec_per_call']:>10.2f} "
                      "us/call")
        if profile:
            profile.dump_stats(args.profile)
            print(f"paperfeed profile: {args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
