"""Load-test ``GET /v1/recommendations`` under ``paperfeed serve`` (gunicorn) on loopback.

Starts a private ``redis-server`` from ``<world>/world.rdb``, points ``pf:model:current`` at
the newest model in ``<world>/models`` (made by ``bench/train.py``), then for each worker
count in ``--workers``:

1. starts ``paperfeed serve --workers N`` on a free port (``PAPERFEED_REDIS_URL`` = the
   bench Redis, ``PAPERFEED_MODELS_DIR``, ``PAPERFEED_RATELIMIT_ENABLED=false``);
2. warms up (every worker loads the model), checks a response really comes from the model;
3. measures single-client latency (sequential requests: the service time);
4. runs ``--clients`` concurrent clients for ``--duration`` s on persistent connections,
   random token of the rotation per request (``wrk`` with a Lua script when installed, else
   Python threads with ``http.client``): req/s, p50/p90/p99, errors, and the share of
   requests answered from a cached list;
5. reports each worker's memory from ``/proc/<pid>/smaps_rollup`` (RSS, PSS, shared) and
   the RSS/PSS of the model's memory-mapped ``.npy`` files from ``/proc/<pid>/smaps``.

Then it starts ``paperfeed serve`` once more with list caching off
(``PAPERFEED_RECOMMENDATIONS_CACHE_SECONDS=0``) and measures one client's sequential
requests: the time of a list built from scratch.

The rotation is every token user of the world (``gen_world.py --token-users``); a larger
``--rotation`` adds users with copies of other world users' weights. The shared lists of
the rotation are deleted before each worker count, so every run starts cold.

Cache hits are counted on the server: every list the service builds is stored for the
other workers with one ``HSET`` (``Store.share_list``), the only ``HSET`` a recommendations
request makes, so Redis's own ``INFO commandstats`` gives the lists built during the load;
the rest of the requests were answered from a cached list (the worker's own or the shared
one).

Everything it starts is stopped on exit.

    python bench/recommend.py --world /tmp/pfbench/100k --workers 2,4 --duration 20
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_world import private_redis  # noqa: E402

from backend import keys  # noqa: E402
from backend.embedded import free_port  # noqa: E402

PATH = "/v1/recommendations?days={days}&limit={limit}"

WRK_SCRIPT = """
local tokens = {%(tokens)s}
local path = "%(path)s"
math.randomseed(%(seed)d)
request = function()
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. t})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50\\": %%d, \\"p90\\": %%d, " ..
    "\\"p99\\": %%d, \\"max\\": %%d, \\"mean\\": %%f, \\"err_status\\": %%d, " ..
    "\\"err_connect\\": %%d, \\"err_read\\": %%d, \\"err_write\\": %%d, \\"err_timeout\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.status, e.connect, e.read, e.write,
    e.timeout))
end
"""


def get(conn: http.client.HTTPConnection, path: str, token: str) -> tuple[int, bytes]:
    """One GET on a persistent connection (reconnects once if the server closed it idle)."""
    for attempt in (0, 1):
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()  # gunicorn closes keep-alive connections idle for 5 s
            if attempt:
                raise
    raise AssertionError("unreachable")


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"paperfeed serve exited with {process.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.2)
    raise RuntimeError("paperfeed serve did not become ready")


@contextlib.contextmanager
def serve(port: int, workers: int, env: dict[str, str], threads: int | None):
    extra = {"PAPERFEED_THREADS": str(threads)} if threads else {}
    process = subprocess.Popen(
        ["paperfeed", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--allow-volatile-redis"],
        env={**os.environ, **env, **extra}, stdout=subprocess.DEVNULL, stderr=sys.stderr,
        start_new_session=True)
    try:
        wait_ready(port, process)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the session we created: master + workers
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def worker_pids(master: int) -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process(master).children()]


def smaps_rollup(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def mapped_files(pid: int, under: str) -> dict[str, dict[str, int]]:
    """Rss/Pss (kB) per file mapped from ``under`` (the model's .npy files)."""
    out: dict[str, dict[str, int]] = {}
    current = None
    with open(f"/proc/{pid}/smaps") as handle:
        for line in handle:
            parts = line.split()
            if parts and "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                path = parts[5] if len(parts) >= 6 else ""
                current = path if path.startswith(under) else None
                if current:
                    out.setdefault(current, {"Rss": 0, "Pss": 0})
            elif current and parts and parts[0] in ("Rss:", "Pss:"):
                out[current][parts[0].rstrip(":")] += int(parts[1])
    return out


def sequential_latency(port: int, tokens: list[str], path: str, n: int) -> np.ndarray:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    rng = random.Random(1)
    for _ in range(n):
        t0 = time.perf_counter()
        status, _ = get(conn, path, rng.choice(tokens))
        out.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"status {status}")
    conn.close()
    return np.array(out) * 1000


def load_wrk(port: int, tokens: list[str], path: str, clients: int, duration: float,
             wrk_threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(WRK_SCRIPT % {"tokens": ",".join(json.dumps(t) for t in tokens),
                                   "path": path, "seed": 42})
        script = handle.name
    try:
        proc = subprocess.run(
            ["wrk", "-t", str(wrk_threads), "-c", str(clients), "-d", f"{int(round(duration))}s",
             "--timeout", "10s", "-s", script, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(script)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
    raw = json.loads(line[5:])
    seconds = raw["duration_us"] / 1e6
    errors = sum(v for k, v in raw.items() if k.startswith("err_"))
    return {"client": "wrk", "requests": raw["requests"], "rps": raw["requests"] / seconds,
            "p50": raw["p50"] / 1000, "p90": raw["p90"] / 1000, "p99": raw["p99"] / 1000,
            "max": raw["max"] / 1000, "mean": raw["mean"] / 1000, "errors": errors,
            "error_detail": {k: v for k, v in raw.items() if k.startswith("err_")}}


def load_python(port: int, tokens: list[str], path: str, clients: int, duration: float) -> dict:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.perf_counter() + duration

    def client(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                status, _ = get(conn, path, rng.choice(tokens))
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies[i].append(time.perf_counter() - t0)
            if status != 200:
                errors[i] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    lat = np.concatenate([np.array(x) for x in latencies]) * 1000
    return {"client": "python", "requests": len(lat), "rps": len(lat) / seconds,
            "p50": float(np.percentile(lat, 50)), "p90": float(np.percentile(lat, 90)),
            "p99": float(np.percentile(lat, 99)), "max": float(lat.max()),
            "mean": float(lat.mean()), "errors": sum(errors)}


def memory_report(master: int, model_dir: Path) -> dict:
    workers = worker_pids(master)
    report = {"workers": {}, "master": smaps_rollup(master)}
    for pid in workers:
        files = mapped_files(pid, str(model_dir))
        report["workers"][pid] = {
            "rollup": smaps_rollup(pid),
            "model_files_rss_kb": sum(v["Rss"] for v in files.values()),
            "model_files_pss_kb": sum(v["Pss"] for v in files.values()),
            "model_files": {Path(k).name: v for k, v in files.items()},
        }
    return report


def reissue_tokens(url: str, user_ids: list[str]) -> tuple[list[str], list[str]]:
    """Fresh users (``Store.create_user``, current token format) with copies of the given
    world users' state (opens, saved and dismissed papers); their ids and tokens.

    The snapshot's tokens were written by the store of the day the world was generated; new
    users keep the bench valid when the token format changes. They are not in the trained
    model (serving solves every user's vector from their current interactions anyway).
    """
    from backend.config import load_config
    from backend.store import Store

    client = redis.Redis.from_url(url, decode_responses=True)
    store = Store(client, load_config({"RATELIMIT_ENABLED": False}))
    pipe = client.pipeline(transaction=False)
    for uid in user_ids:
        pipe.hgetall(keys.user(uid, "opens"))
        pipe.zrange(keys.user(uid, "saved"), 0, -1, withscores=True)
        pipe.zrange(keys.user(uid, "dismissed"), 0, -1, withscores=True)
    found = pipe.execute()
    new_ids, tokens = [], []
    now = datetime.now(UTC)
    for i in range(len(user_ids)):
        opens, saved, dismissed = found[3 * i:3 * i + 3]
        new_id, token = store.create_user(now)
        if opens:
            pipe.hset(keys.user(new_id, "opens"), mapping=opens)
        for part, members in (("saved", saved), ("dismissed", dismissed)):
            if members:
                pipe.zadd(keys.user(new_id, part), dict(members))
        new_ids.append(new_id)
        tokens.append(token)
        if len(pipe) >= 2000:
            pipe.execute()
    pipe.execute()
    client.close()
    return new_ids, tokens


def server_cpu(master: int, redis_pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) so far of the gunicorn workers and of Redis."""
    import psutil

    def used(process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    workers = sum(used(child) for child in psutil.Process(master).children())
    return workers, used(psutil.Process(redis_pid))


def hset_calls(url: str) -> int:
    """Redis's count of ``HSET`` commands so far (scripts' calls included)."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("commandstats").get("cmdstat_hset", {}).get("calls", 0))
    finally:
        client.close()


def drop_shared_lists(url: str, user_ids: list[str]) -> None:
    """Delete the users' shared lists (a cold start for the next server)."""
    client = redis.Redis.from_url(url)
    try:
        for start in range(0, len(user_ids), 1000):
            client.delete(*(keys.user(uid, "lists") for uid in user_ids[start:start + 1000]))
    finally:
        client.close()


def rotation_users(url: str, world: dict, size: int) -> list[str]:
    """``size`` user ids to copy for the rotation: the world's token users, then plain
    world users (``gen_world.py`` numbers them ``{i:032x}``) with interactions."""
    ids = list(world["token_user_ids"])[:size] if size else list(world["token_user_ids"])
    plain = world["sizes"]["users"] - len(world["token_user_ids"])
    client = redis.Redis.from_url(url)
    try:
        for i in range(plain):
            if len(ids) >= size:
                break
            uid = f"{i:032x}"
            if client.exists(keys.user(uid, "opens")):
                ids.append(uid)
    finally:
        client.close()
    if len(ids) < size:
        raise SystemExit(f"--rotation {size}: the world has {len(ids)} users with interactions")
    return ids


def warm(port: int, workers: int, path: str, tokens: list[str], version: str, n: int) -> dict:
    """``n`` requests over several connections so that every worker loads the model; checks
    the model serves; counts the reasons' kinds."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)
             for _ in range(max(8, 4 * workers))]
    status, body = get(conns[0], path, tokens[0])
    sample = json.loads(body)
    if status != 200 or sample.get("model_version") != version:
        raise SystemExit(f"not served by the model: {status} {body[:300]!r}")
    kinds: dict[str, int] = {}
    for i in range(n):
        status, body = get(conns[i % len(conns)], path, tokens[i % len(tokens)])
        for item in json.loads(body)["items"]:
            kinds[item["reason"]["kind"]] = kinds.get(item["reason"]["kind"], 0) + 1
    for conn in conns:
        conn.close()
    return kinds


def profile_builds(env: dict[str, str], path: str, tokens: list[str], n: int,
                   out: str) -> dict:
    """Build ``n`` lists from scratch in this process (the Flask app through its test client,
    list caching off) under cProfile; dumps the profile to ``out`` and returns the CPU ms per
    request with and without the profiler."""
    import cProfile
    import pstats

    from backend import create_app

    overrides = {k.removeprefix("PAPERFEED_"): v for k, v in env.items()}
    app = create_app({**overrides, "RATELIMIT_ENABLED": False,
                      "RECOMMENDATIONS_CACHE_SECONDS": 0})
    client = app.test_client()
    rng = random.Random(2)

    def run(count: int) -> float:
        c0 = time.process_time()
        for _ in range(count):
            response = client.get(path, headers={"Authorization": f"Bearer {rng.choice(tokens)}"})
            if response.status_code != 200:
                raise SystemExit(f"profile: status {response.status_code}")
        return 1000 * (time.process_time() - c0) / count

    run(20)  # loads the model, the window's caches
    plain = run(n)
    profiler = cProfile.Profile()
    profiler.enable()
    profiled = run(n)
    profiler.disable()
    profiler.dump_stats(out)
    text = io.StringIO()
    pstats.Stats(out, stream=text).sort_stats("cumulative").print_stats(
        r"(recommender|backend)/", 30)
    return {"cpu_ms": plain, "cpu_ms_profiled": profiled, "requests": n, "file": out,
            "top": text.getvalue()}


def percentiles(values: np.ndarray) -> dict[str, float]:
    return {q: float(np.percentile(values, int(q[1:]))) for q in ("p50", "p90", "p99")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, help="default <world>/models")
    parser.add_argument("--version", help="model version (default: newest in the models dir)")
    parser.add_argument("--workers", default="2,4", help="comma-separated worker counts")
    parser.add_argument("--threads", type=int, help="gthread threads per worker [config: 8]")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up requests")
    parser.add_argument("--sequential", type=int, default=300,
                        help="single-client requests for the service time")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--reuse-tokens", action="store_true",
                        help="use the world's tokens as stored instead of re-issuing them")
    parser.add_argument("--rotation", type=int, default=0,
                        help="users in the load's rotation (default: the world's token users; "
                             "more are copies of other world users)")
    parser.add_argument("--scratch", type=int, default=300,
                        help="single-client requests with list caching off (0: skip)")
    parser.add_argument("--profile", metavar="FILE",
                        help="also build --scratch lists in this process under cProfile into "
                             "FILE (CPU per list, where it goes)")
    args = parser.parse_args()

    world = json.loads((args.world / "world.json").read_text())
    models_dir = args.models_dir or args.world / "models"
    version = args.version or sorted(
        p.name for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith("."))[-1]
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    path = PATH.format(days=args.days, limit=args.limit)
    results = []
    scratch = None
    load_before = os.getloadavg()
    with private_redis(args.world, "world.rdb") as (url, redis_process):
        client = redis.Redis.from_url(url, decode_responses=True)
        client.set(keys.MODEL_POINTER, version)
        if args.reuse_tokens:
            if args.rotation > len(world["tokens"]):
                raise SystemExit("--reuse-tokens: the world has fewer token users than --rotation")
            user_ids = world["token_user_ids"][:args.rotation or None]
            tokens = world["tokens"][:args.rotation or None]
        else:
            user_ids, tokens = reissue_tokens(url, rotation_users(url, world, args.rotation))
        window = client.zcount(keys.PAPERS_BY_DAY,
                               int(client.zrange(keys.PAPERS_BY_DAY, -1, -1, withscores=True)[0][1])
                               - args.days, "+inf")
        client.close()
        env = {"PAPERFEED_REDIS_URL": url, "PAPERFEED_DATA_DIR": str(args.world),
               "PAPERFEED_MODELS_DIR": str(models_dir), "PAPERFEED_RATELIMIT_ENABLED": "false"}
        for workers in [int(w) for w in args.workers.split(",")]:
            drop_shared_lists(url, user_ids)
            port = free_port()
            with serve(port, workers, env, args.threads) as process:
                kinds = warm(port, workers, path, tokens, version, args.warmup)
                seq = sequential_latency(port, tokens, path, args.sequential)
                built_before = hset_calls(url)
                cpu_before = server_cpu(process.pid, redis_process.pid)
                if use_wrk:
                    load = load_wrk(port, tokens, path, args.clients, args.duration,
                                    args.wrk_threads)
                else:
                    load = load_python(port, tokens, path, args.clients, args.duration)
                cpu_after = server_cpu(process.pid, redis_process.pid)
                load["lists_built"] = hset_calls(url) - built_before
                load["cpu_ms_per_request"] = [1000 * (b - a) / max(load["requests"], 1)
                                              for a, b in zip(cpu_before, cpu_after, strict=True)]
                load["cache_hit_rate"] = 1 - load["lists_built"] / max(load["requests"], 1)
                memory = memory_report(process.pid, models_dir / version)
            results.append({"workers": workers, "sequential_ms": percentiles(seq), "load": load,
                            "memory": memory, "reasons": kinds})
        if args.scratch:
            workers = int(args.workers.split(",")[0])
            port = free_port()
            with serve(port, workers, {**env, "PAPERFEED_RECOMMENDATIONS_CACHE_SECONDS": "0"},
                       args.threads) as process:
                warm(port, workers, path, tokens, version, args.warmup)
                built_before = hset_calls(url)
                cpu_before = server_cpu(process.pid, redis_process.pid)
                seq = sequential_latency(port, tokens, path, args.scratch)
                cpu_after = server_cpu(process.pid, redis_process.pid)
                if hset_calls(url) != built_before:
                    raise SystemExit("lists were cached with PAPERFEED_RECOMMENDATIONS_CACHE_SECONDS=0")
            scratch = {"workers": workers, "requests": args.scratch, **percentiles(seq),
                       "cpu_ms_per_request": [1000 * (b - a) / args.scratch
                                              for a, b in zip(cpu_before, cpu_after, strict=True)]}
            if args.profile:
                scratch["in_process"] = profile_builds(env, path, tokens, args.scratch,
                                                       args.profile)
    load_after = os.getloadavg()

    s = world["sizes"]
    print(f"\n## recommend  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  model {version}")
    print(f"world: {s['users']} users x {s['papers']} papers x {s['interactions']} interactions; "
          f"window days={args.days}: {window} candidate papers; {len(tokens)} users in the "
          f"rotation; {args.clients} clients x {args.duration:.0f} s, client "
          f"{'wrk' if use_wrk else 'python threads'}; load average before "
          f"{load_before[0]:.1f}, after {load_after[0]:.1f}")
    print("| workers | 1-client p50 / p99 ms | req/s | p50 ms | p90 ms | p99 ms | max ms | errors "
          "| lists built | cached | server CPU ms/request (workers + Redis) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        q, load = r["sequential_ms"], r["load"]
        print(f"| {r['workers']} | {q['p50']:.1f} / {q['p99']:.1f} | {load['rps']:.0f} | "
              f"{load['p50']:.1f} | {load['p90']:.1f} | {load['p99']:.1f} | {load['max']:.0f} | "
              f"{load['errors']} | {load['lists_built']} of {load['requests']} | "
              f"{100 * load['cache_hit_rate']:.1f} % | "
              f"{load['cpu_ms_per_request'][0]:.1f} + {load['cpu_ms_per_request'][1]:.1f} |")
    if scratch:
        print(f"built from scratch (PAPERFEED_RECOMMENDATIONS_CACHE_SECONDS=0, {scratch['workers']} "
              f"workers, one client, {scratch['requests']} sequential requests): p50 "
              f"{scratch['p50']:.1f} ms, p90 {scratch['p90']:.1f} ms, p99 {scratch['p99']:.1f} ms; "
              f"server CPU {scratch['cpu_ms_per_request'][0]:.1f} + "
              f"{scratch['cpu_ms_per_request'][1]:.1f} ms/request (workers + Redis)")
        if "in_process" in scratch:
            inner = scratch["in_process"]
            print(f"in this process (test client, no HTTP): {inner['cpu_ms']:.1f} ms CPU per "
                  f"list, {inner['cpu_ms_profiled']:.1f} ms under cProfile ({inner['file']})")
            print(inner["top"][inner["top"].find("   ncalls"):].rstrip() + "\n")
    print("\n| workers | worker pid | RSS MB | PSS MB | shared MB | private MB | "
          "model .npy RSS MB | model .npy PSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for pid, w in r["memory"]["workers"].items():
            roll = w["rollup"]
            shared = roll.get("Shared_Clean", 0) + roll.get("Shared_Dirty", 0)
            private = roll.get("Private_Clean", 0) + roll.get("Private_Dirty", 0)
            print(f"| {r['workers']} | {pid} | {roll['Rss'] / 1024:.0f} | {roll['Pss'] / 1024:.0f} | "
                  f"{shared / 1024:.0f} | {private / 1024:.0f} | "
                  f"{w['model_files_rss_kb'] / 1024:.0f} | {w['model_files_pss_kb'] / 1024:.0f} |")
        total_pss = sum(w["rollup"]["Pss"] for w in r["memory"]["workers"].values())
        print(f"| {r['workers']} | all workers | | **{total_pss / 1024:.0f}** | | | | |")
    print("reasons in warm-up responses: " + "; ".join(
        f"{r['workers']} workers: {r['reasons']}" for r in results))
    out = args.world / f"recommend-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    if scratch and "in_process" in scratch:
        del scratch["in_process"]["top"]
    out.write_text(json.dumps({"version": version, "window": window, "rotation": len(tokens),
                               "results": results, "scratch": scratch,
                               "loadavg": [load_before, load_after]}, indent=1, default=str))
    print(f"result: {out}")


if __name__ == "__main__":
    main()
