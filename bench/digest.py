"""Digest throughput: N due digests composed, rendered and handed to a local SMTP server.

    python bench/digest.py --users 100000
    python bench/digest.py --users 10000 --connections 4 --workers 2

A private redis-server and an aiosmtpd server (its own process, counting what it accepts)
on loopback. The catalogue is the real Daily Papers (``/work/shared/datasets``) when present,
else the demo catalogue; each user has a few opens and saves of the newest week's papers and
a confirmed daily subscription due now. Reported: the run's wall time and CPU, digests per
second, the time 100,000 take at that rate, and, as the baseline of the same run, handing
the same number of one pre-rendered digest to the same server over the same number of
connections (what SMTP alone costs). The run's CPU counts its worker processes too.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import smtplib
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import free_port, private_redis  # noqa: E402

REAL_CATALOGUE = Path("/work/shared/datasets/hf-daily-papers/catalogue.jsonl.gz")


def smtp_process(port: int, accepted, ready, stop) -> None:
    """An aiosmtpd server that counts the messages it accepts (runs in its own process)."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            with accepted.get_lock():
                accepted.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def populate(store, subscriptions, users: int, seed: int) -> None:
    """Users with a few events on the newest week's papers, each with an active daily
    subscription due at hour 0."""
    from backend.store import Event

    rng = random.Random(seed)
    newest = store.newest_daily_date()
    week = [paper_id for paper_id, _ in store.papers_since(newest - timedelta(days=6))]
    now = datetime.now(UTC)
    started = time.perf_counter()
    for n in range(users):
        user_id, _ = store.create_user(now)
        events = [Event(id=str(uuid.uuid4()), type=rng.choice(("open", "open", "save")),
                        paper_id=rng.choice(week), ts=now - timedelta(minutes=5))
                  for _ in range(rng.randint(0, 4))]
        if events:
            store.apply_events(user_id, events, now)
        requested = subscriptions.request(user_id, f"reader{n}@example.com", "daily", 0, 0, now)
        subscriptions.confirm(user_id, requested.nonce, now)
        if (n + 1) % 10000 == 0:
            print(f"  {n + 1} users ({time.perf_counter() - started:.0f} s)", file=sys.stderr)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU seconds the reaped child processes (the run's workers) used."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def baseline(port: int, message, count: int, connections: int) -> float:
    """Seconds to hand ``count`` copies of one message over ``connections`` connections."""

    def send(share: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost") as smtp:
            for _ in range(share):
                smtp.send_message(message)

    shares = [count // connections + (1 if i < count % connections else 0)
              for i in range(connections)]
    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(send, shares))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the run into FILE (the parent process: use --workers 1)")
    args = parser.parse_args()

    from backend import importer
    from backend.cli import demo_catalogue_path
    from backend.config import load_config
    from backend.digest.run import digest_run
    from backend.digest.subscriptions import Subscriptions
    from backend.store import Store, connect

    port = free_port()
    accepted = multiprocessing.Value("l", 0)
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    server = multiprocessing.Process(target=smtp_process, args=(port, accepted, ready, stop))
    server.start()
    ready.wait(30)
    try:
        with private_redis() as (url, redis_pid):
            config = load_config({"REDIS_URL": url, "DATA_DIR": f"/tmp/pf-digest-bench-{os.getpid()}",
                                  "SMTP_URL": f"smtp://127.0.0.1:{port}",
                                  "SECRET_KEY": "bench", "DIGEST_CONNECTIONS": args.connections,
                                  "DIGEST_WORKERS": args.workers, "DIGEST_RETRY_DELAYS": []})
            store = Store(connect(url), config)
            catalogue = REAL_CATALOGUE if REAL_CATALOGUE.exists() else demo_catalogue_path()
            store.upsert_papers(importer.read_papers(catalogue).papers)
            print(f"catalogue: {catalogue.name}, {store.catalogue_size()} papers, newest day "
                  f"{store.newest_daily_date()}; creating {args.users} subscribers ...",
                  file=sys.stderr)
            populate(store, Subscriptions(store.client, "bench"), args.users, args.seed)

            run = digest_run(store, config)
            someone = run.subscriptions.get(next(iter(store.client.sscan_iter(
                "pf:digest:active", count=10))))
            sample = run.service.renderer.digest_message(
                run.composer.compose(someone, datetime.now(UTC)), "reader@example.com", "token",
                datetime.now(UTC))
            others = process_cpu(redis_pid) + process_cpu(server.pid)
            wall, cpu = time.perf_counter(), time.process_time() + children_cpu()
            if args.profile:
                import cProfile

                with cProfile.Profile() as profile:
                    report = run.run(datetime.now(UTC))
                profile.dump_stats(args.profile)
            else:
                report = run.run(datetime.now(UTC))
            wall, cpu = time.perf_counter() - wall, time.process_time() + children_cpu() - cpu
            others = process_cpu(redis_pid) + process_cpu(server.pid) - others
            sent = report.outcomes["sent"]
            received = accepted.value

            reference = baseline(port, sample, sent, args.connections)
    finally:
        stop.set()
        server.join(30)

    rate = sent / wall
    print(f"{report.summary()}; the SMTP server accepted {received}")
    print(f"digest run: {sent} digests in {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({rate:.0f} digests/s, {args.workers} workers, {args.connections} connections, "
          f"load {os.getloadavg()[0]:.1f})")
    print(f"CPU per digest: {cpu / sent * 1000:.1f} ms in the run, {others / sent * 1000:.1f} ms in "
          f"Redis and the SMTP server; 100,000 digests need {(cpu + others) / sent * 1e5 / 60:.1f} "
          f"CPU-minutes in all")
    print(f"100,000 digests at this rate: {100_000 / rate / 60:.1f} min (target: 10 min)")
    print(f"baseline, one pre-rendered digest ({len(sample.as_bytes()) / 1024:.0f} KiB) handed "
          f"{sent} times: {reference:.1f} s; the run takes {wall / reference:.1f}x that")


if __name__ == "__main__":
    main()
