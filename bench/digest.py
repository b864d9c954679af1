"""Digest throughput: N due digests composed, rendered and handed to a local SMTP server.

    python bench/digest.py --users 100000
    python bench/digest.py --users 10000 --connections 4 --workers 2

A private redis-server and an aiosmtpd server (its own process, counting what it accepts)
on loopback. The catalogue is the real Daily Papers (``/work/shared/datasets``) when present,
else the demo catalogue; each user has a few opens and saves of the newest week's papers and
a confirmed daily subscription due now. Reported: the run's wall time and CPU, digests per
second, the time 100,000 take at that rate, and, as the baseline of the same run, handing
the same number of one pre-rendered digest to the same server over the same number of
connections (what SMTP alone costs). The run's CPU counts its worker processes too; the CPU
the hypervisor gave to other machines meanwhile (steal time) says whether the machine was
quiet.

Where a digest's CPU goes inside the workers (both run the share of each worker process as
``paperfeed digest`` does, the instruments installed in each worker):

    python bench/digest.py --users 2000 --breakdown        # thread CPU per stage
    python bench/digest.py --users 2000 --profile d.prof   # cProfile of every worker thread

``--breakdown`` times each stage of a digest in thread CPU (its own time, without the stages
inside it: the list inside composing, the templates inside rendering, serialising and SMTP
inside sending); ``--profile`` runs every worker thread under cProfile on thread CPU time
(which adds its own overhead to call-heavy code) and merges them into one file for pstats.
"""

from __future__ import annotations

import argparse
import functools
import gc
import multiprocessing
import os
import pstats
import random
import resource
import smtplib
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
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


def stolen_cpu() -> float:
    """CPU seconds the hypervisor has given to others while this machine's CPUs wanted to
    run (steal time, /proc/stat): when it grows during a run, the figures are not of a quiet
    machine."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


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


# (stage, module, what in it): the stages --breakdown times, outermost first.
STAGES = [
    ("loop, thread pool", "backend.digest.run", "DigestRun._deliver_chunk"),
    ("readers' states", "backend.digest.runstore", "RunStore.read_states"),
    ("claims", "backend.digest.subscriptions", "Subscriptions._run_claim"),
    ("compose (without the list)", "backend.digest.compose", "DigestComposer.compose"),
    ("list (PersonalRecommender.recommend)", "backend.recommendations.serving",
     "PersonalRecommender.recommend"),
    ("unsubscribe token", "backend.digest.tokens", "Tokens.unsubscribe_token"),
    ("MIME build", "backend.digest.compose", "Renderer.digest_message"),
    ("templates (Jinja2)", "jinja2.environment", "Template.render"),
    ("send (addresses)", "backend.digest.mailer", "SmtpConnection.send"),
    ("MIME serialise (as_bytes)", "email.message", "Message.as_bytes"),
    ("SMTP transaction (sendmail)", "smtplib", "SMTP.sendmail"),
    ("garbage collector", None, None),
]


class StageTimer:
    """Thread CPU per stage, each stage without the timed stages called inside it."""

    def __init__(self):
        self._local = threading.local()
        self._threads: list[Counter] = []
        self._lock = threading.Lock()

    def _thread(self) -> tuple[list[float], Counter]:
        if not hasattr(self._local, "stack"):
            self._local.stack, self._local.totals = [], Counter()
            with self._lock:
                self._threads.append(self._local.totals)
        return self._local.stack, self._local.totals

    def enter(self) -> None:
        self._thread()[0].append(time.thread_time())
        self._thread()[0].append(0.0)

    def leave(self, stage: str) -> None:
        stack, totals = self._thread()
        children, started = stack.pop(), stack.pop()
        elapsed = time.thread_time() - started
        totals[stage] += elapsed - children
        if stack:
            stack[-1] += elapsed

    def wrap(self, owner: type, name: str, stage: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            self.enter()
            try:
                return original(*args, **kwargs)
            finally:
                self.leave(stage)

        setattr(owner, name, timed)

    def collections(self, phase: str, info: dict) -> None:
        """A ``gc.callbacks`` entry: the collector's time as a stage of its own, taken out of
        the stage that set it off."""
        if phase == "start":
            self.enter()
        elif self._thread()[0]:
            self.leave("garbage collector")

    def totals(self) -> Counter:
        out: Counter = Counter()
        for totals in self._threads:
            out.update(totals)
        return out


class ThreadProfiles:
    """A cProfile (thread CPU time) per thread running ``DigestRun._deliver_chunk``."""

    def __init__(self):
        import cProfile

        self._make = lambda: cProfile.Profile(time.thread_time)
        self._local = threading.local()
        self.profiles: list = []
        self._lock = threading.Lock()

    def wrap(self, owner: type, name: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def profiled(*args, **kwargs):
            profile = getattr(self._local, "profile", None)
            if profile is None:
                profile = self._local.profile = self._make()
                with self._lock:
                    self.profiles.append(profile)
            profile.enable()
            try:
                return original(*args, **kwargs)
            finally:
                profile.disable()

        setattr(owner, name, profiled)


def instrumented_share(config: dict, share: list, now: datetime, breakdown: bool,
                       profile_path: str | None) -> tuple[Counter, Counter, float, list[str]]:
    """A worker process's share of the run (``backend.digest.run.deliver_share``) with the
    stages timed and/or every thread profiled; returns the outcomes, the stage totals, the
    process's CPU up to the end of its share, and the profile files written."""
    import importlib

    from backend.digest.run import digest_run
    from backend.store import Store, connect

    timer, profiles = StageTimer(), ThreadProfiles()
    if breakdown:
        for stage, module, name in STAGES:
            if module:
                target = importlib.import_module(module)
                *owners, attribute = name.split(".")
                for owner in owners:
                    target = getattr(target, owner)
                timer.wrap(target, attribute, stage)
        gc.callbacks.append(timer.collections)
    if profile_path:
        from backend.digest.run import DigestRun

        profiles.wrap(DigestRun, "_deliver_chunk")
    store = Store(connect(config["REDIS_URL"]), config)
    try:
        outcomes = digest_run(store, config).deliver(share, now)
    finally:
        store.client.close()
    paths = []
    for n, profile in enumerate(profiles.profiles):
        paths.append(f"{profile_path}.{os.getpid()}.{n}")
        profile.dump_stats(paths[-1])
    return outcomes, timer.totals(), process_cpu(os.getpid()), paths


def instrumented_run(run, config: dict, now: datetime, workers: int, breakdown: bool,
                     profile_path: str | None):
    """The run as ``DigestRun.run`` does it (the due digests in disjoint shares over
    ``workers`` spawned processes, the connections split between them), instrumented."""
    from backend.digest.run import MIN_SHARE, RunReport

    due = run.due(now)
    report = RunReport(due=len(due))
    workers = max(1, min(workers, len(due) // MIN_SHARE))
    config = {**config, "DIGEST_CONNECTIONS": max(1, config["DIGEST_CONNECTIONS"] // workers)}
    stages: Counter = Counter()
    process_total, paths = 0.0, []
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(instrumented_share, config, due[i::workers], now, breakdown,
                               profile_path) for i in range(workers)]
        for future in futures:
            outcomes, totals, cpu, written = future.result()
            report.outcomes.update(outcomes)
            stages.update(totals)
            process_total += cpu
            paths += written
    return report, stages, process_total, paths


def print_breakdown(stages: Counter, process_total: float, sent: int) -> None:
    """Stage CPU per digest, and what the worker processes spent outside the stages
    (start-up: imports, connections, the run's first rankings and catalogue reads)."""
    print("worker CPU per digest by stage (thread CPU, each stage without those inside it):")
    timed = sum(stages.values())
    for stage, *_ in STAGES:
        print(f"  {stage:<40} {stages[stage] / sent * 1000:6.2f} ms  "
              f"{stages[stage] / timed * 100:5.1f} %")
    print(f"  {'all stages':<40} {timed / sent * 1000:6.2f} ms")
    print(f"  {'outside them (start-up, main thread)':<40} "
          f"{(process_total - timed) / sent * 1000:6.2f} ms "
          f"({process_total - timed:.1f} s in all)")


def print_profile(path: str, parts: list[str]) -> None:
    """Merge the worker threads' profiles into ``path`` and show the top of it."""
    stats = pstats.Stats(*parts)
    stats.dump_stats(path)
    for part in parts:
        os.unlink(part)
    print(f"profile of {len(parts)} worker threads (thread CPU) in {path}:")
    stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--breakdown", action="store_true",
                        help="time each stage of a digest in the workers (thread CPU)")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile every worker thread (thread CPU), merged into FILE")
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
            stolen = stolen_cpu()
            wall, cpu = time.perf_counter(), time.process_time() + children_cpu()
            instrumented = args.breakdown or args.profile
            if instrumented:
                report, stages, process_total, parts = instrumented_run(
                    run, config, datetime.now(UTC), args.workers, args.breakdown, args.profile)
            else:
                report = run.run(datetime.now(UTC))
            wall, cpu = time.perf_counter() - wall, time.process_time() + children_cpu() - cpu
            others = process_cpu(redis_pid) + process_cpu(server.pid) - others
            stolen = stolen_cpu() - stolen
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
          f"load {os.getloadavg()[0]:.1f}, {stolen:.1f} s CPU stolen by the hypervisor)")
    print(f"CPU per digest: {cpu / sent * 1000:.1f} ms in the run, {others / sent * 1000:.1f} ms in "
          f"Redis and the SMTP server; 100,000 digests need {(cpu + others) / sent * 1e5 / 60:.1f} "
          f"CPU-minutes in all")
    print(f"100,000 digests at this rate: {100_000 / rate / 60:.1f} min (target: 10 min)")
    print(f"baseline, one pre-rendered digest ({len(sample.as_bytes()) / 1024:.0f} KiB) handed "
          f"{sent} times: {reference:.1f} s; the run takes {wall / reference:.1f}x that")
    if instrumented:
        print("(instrumented run: its times include the instruments' overhead)")
    if args.breakdown:
        print_breakdown(stages, process_total, sent)
    if args.profile:
        print_profile(args.profile, parts)


if __name__ == "__main__":
    main()
