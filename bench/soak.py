"""Soak test: paperfeed under a steady mixed load, with a retrain running in parallel.

Starts a private redis-server (append-only, loopback, own dir) and ``paperfeed serve``
(gunicorn) on free loopback ports, imports the demo catalogue, then for ``--seconds``
runs client threads that post event batches and read recommendations/trending/saved,
while ``paperfeed train`` runs repeatedly in the background. Records error rate, p50/p99
latency and gunicorn workers' RSS at start and end, and Redis memory per event.
Everything stops by itself; nothing leaves the machine.

    python bench/soak.py --seconds 300 --clients 8
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import redis

from backend.embedded import free_port, private_redis


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def workers(master: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.requests = 0
        self.events = 0

    def record(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.requests += 1
            self.latencies.setdefault(kind, []).append(seconds)
            if status >= 500 or status == 0:
                self.errors[f"{kind}:{status}"] = self.errors.get(f"{kind}:{status}", 0) + 1

    def window(self) -> list[float]:
        with self.lock:
            return [x for values in self.latencies.values() for x in values]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="paperfeed-soak-")
    web_port = free_port()
    stack = contextlib.ExitStack()
    redis_url, _ = stack.enter_context(private_redis(
        ["--appendonly", "yes", "--appendfsync", "everysec"], directory=workdir))
    env = {**os.environ, "PAPERFEED_REDIS_URL": redis_url, "PAPERFEED_DATA_DIR": workdir,
           "PAPERFEED_WORKERS": str(args.workers), "PAPERFEED_RATELIMIT_REGISTER": "100000/hour",
           "PAPERFEED_MODEL_POLL_SECONDS": "5", "OPENBLAS_NUM_THREADS": "1"}
    server = None
    stop = threading.Event()
    trainer_runs: list[tuple[float, int]] = []
    try:
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        server = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--port", str(web_port), "--demo"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{web_port}"

        def request(method: str, path: str, body=None, token=None) -> tuple[int, object]:
            data = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=30) as response:
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                return error.code, None
            except OSError:
                return 0, None

        deadline = time.monotonic() + 120
        while request("GET", "/readyz")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("paperfeed serve did not start")
            time.sleep(0.3)
        papers = [p for p, _ in (r.zrevrange("pf:papers:day", 0, 300, withscores=True))]
        tokens = [request("POST", "/v1/users")[1]["token"] for _ in range(args.users)]
        stats = Stats()
        info0 = r.info("memory")["used_memory"]
        events0 = 0

        def client_loop(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                token = rng.choice(tokens)
                roll = rng.random()
                started = time.perf_counter()
                if roll < 0.6:
                    batch = [{"id": str(uuid.uuid4()),
                              "type": rng.choice(["open", "open", "open", "save", "dismiss"]),
                              "paper_id": rng.choice(papers),
                              "ts": datetime.now(UTC).isoformat(), "source": "list"}
                             for _ in range(rng.randint(1, 10))]
                    status, _ = request("POST", "/v1/events", {"events": batch}, token)
                    stats.record("events", time.perf_counter() - started, status)
                    if status == 202:
                        with stats.lock:
                            stats.events += len(batch)
                elif roll < 0.85:
                    status, _ = request("GET", "/v1/recommendations?limit=20", token=token)
                    stats.record("recommendations", time.perf_counter() - started, status)
                elif roll < 0.95:
                    status, _ = request("GET", "/v1/trending")
                    stats.record("trending", time.perf_counter() - started, status)
                else:
                    status, _ = request("GET", "/v1/saved", token=token)
                    stats.record("saved", time.perf_counter() - started, status)

        def trainer() -> None:
            while not stop.wait(10):
                started = time.monotonic()
                proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "train"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                while proc.poll() is None:
                    if stop.wait(0.5):
                        proc.terminate()
                        proc.wait()
                        return
                trainer_runs.append((time.monotonic() - started, proc.returncode))

        threads = [threading.Thread(target=client_loop, args=(i,), daemon=True)
                   for i in range(args.clients)]
        if not args.no_train:
            threads.append(threading.Thread(target=trainer, daemon=True))
        for thread in threads:
            thread.start()
        # "start" figures: the first 20 s (or a tenth of the run)
        warm = min(20.0, args.seconds / 10)
        time.sleep(warm)
        start_latencies = stats.window()
        start_rss = {pid: rss_kib(pid) for pid in workers(server.pid)}
        time.sleep(max(0.0, args.seconds - 2 * warm))
        mark = len(stats.window())
        time.sleep(warm)
        end_latencies = stats.window()[mark:]
        end_rss = {pid: rss_kib(pid) for pid in workers(server.pid)}
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        info1 = r.info("memory")["used_memory"]
        total_errors = sum(stats.errors.values())
        figures = {
            "seconds": args.seconds, "clients": args.clients, "users": args.users,
            "gunicorn_workers": args.workers,
            "requests": stats.requests, "events_accepted": stats.events - events0,
            "throughput_rps": round(stats.requests / args.seconds, 1),
            "errors": stats.errors, "error_rate": total_errors / max(stats.requests, 1),
            "p50_ms": {k: round(percentile(v, 0.5) * 1000, 1) for k, v in stats.latencies.items()},
            "p99_ms": {k: round(percentile(v, 0.99) * 1000, 1) for k, v in stats.latencies.items()},
            "p99_ms_start": round(percentile(start_latencies, 0.99) * 1000, 1),
            "p99_ms_end": round(percentile(end_latencies, 0.99) * 1000, 1),
            "worker_rss_mib_start": {str(k): round(v / 1024, 1) for k, v in start_rss.items()},
            "worker_rss_mib_end": {str(k): round(v / 1024, 1) for k, v in end_rss.items()},
            "redis_used_memory_delta_bytes": info1 - info0,
            "redis_bytes_per_event": round((info1 - info0) / max(stats.events, 1), 1),
            "trainings": [{"seconds": round(s, 1), "exit": rc} for s, rc in trainer_runs],
            "model_version": (request("GET", "/readyz")[1] or {}).get("model_version"),
        }
        print(json.dumps(figures, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
        failed_trainings = [rc for _, rc in trainer_runs if rc != 0]
        return 0 if total_errors == 0 and not failed_trainings else 1
    finally:
        stop.set()
        if server and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
