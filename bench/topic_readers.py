"""Topic readers: does a new reader's top 10 match their topic, where users see it?

A seeded simulation on the real Daily Papers catalogue. The catalogue is imported with the
product's importer into a private ``redis-server``; everything users do goes through the
real Flask app (its WSGI test client) with real tokens from ``POST /v1/users``.

1. A community of readers, each of one or two topics (keyword lists below), browses some
   recent Daily Papers days as a person would: a day's papers by upvotes, opening on-topic
   papers often and off-topic ones rarely, saving some on-topic ones, dismissing some
   off-topic ones (events posted 100 per request).
2. New readers, each with 3-5 saves in one topic, ask ``GET /v1/recommendations`` (10
   papers, 7 days ending at one of the last Daily Papers days) with no model trained; they
   are deleted (``DELETE /v1/me``), ``paperfeed train`` runs, and the same readers (same
   saves) ask again.
3. For each list: the share of on-topic papers in the top 10, for the product, for its
   content component alone and for trending alone (``GET /v1/trending`` without the
   reader's own papers); the share of that day's on-topic papers in the top 10, and
   whether at least one of them is there when the day has one; the ceiling is the share
   a perfect list would reach (a topic may have fewer than 10 papers in the window); the
   bound is the best share content blended with the true community signal reaches (how
   many readers of the reader's own topic opened each paper, known only to the simulation):
   what no use of community data can exceed by much.
4. Dismissals: each trained-model reader dismisses the three papers of an unwanted topic
   ranked highest in their list; the topic's share of the next top 10 is compared with
   their previous top 10 with only the dismissed papers taken out.

    python bench/topic_readers.py                 # 50 and 5,000 community readers
    python bench/topic_readers.py --users 50 --json /tmp/topics.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import mean

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, private_redis  # noqa: E402

from recommender.model import zscore  # noqa: E402

CATALOGUE = Path(os.environ.get(
    "PAPERFEED_TOPIC_CATALOGUE",
    ROOT.parent.parent / "shared/datasets/hf-daily-papers/catalogue.jsonl.gz"))
FALLBACK_CATALOGUE = Path("/work/shared/datasets/hf-daily-papers/catalogue.jsonl.gz")
DEFAULT_SEED = 424242  # tests use other seeds: the bench's readers are not the ones tuned on

TOPICS = {
    "diffusion": ["diffusion", "image generation", "text-to-image", "video generation",
                  "image editing", "flow matching", "denoising", "image synthesis",
                  "video synthesis"],
    "reasoning": ["reasoning", "reinforcement learning", "chain-of-thought", "grpo", "rlvr",
                  "reward model", "mathematical", "verifiable reward", "policy optimization"],
    "robotics": ["robot", "embodied", "manipulation", "vision-language-action", "locomotion",
                 "grasp", "humanoid"],
    "speech": ["speech", "audio", "text-to-speech", "asr", "voice", "spoken", "music",
               "acoustic"],
    "agents": ["agent", "agentic", "tool use", "tool-use", "tool calling", "function calling",
               "web navigation", "gui"],
    "efficiency": ["quantization", "quantized", "pruning", "efficient inference", "kv cache",
                   "speculative decoding", "sparse attention", "low-bit", "compression",
                   "inference acceleration", "latency"],
}
PATTERNS = {topic: re.compile(r"\b(?:" + "|".join(re.escape(k) for k in words) + ")", re.I)
            for topic, words in TOPICS.items()}

DAYS = 7  # the window new readers ask for (the extension's default)
TOP = 10
BROWSE_DAYS = 28  # community readers browse days among the last this many
OPEN_ON, OPEN_OFF = 0.6, 0.04
SAVE_ON = 0.35
DISMISS_OFF = 0.04
NEW_READERS_PER_TOPIC = 8
DISMISSALS = 3
BATCH = 100


def topics_of(paper: dict) -> set[str]:
    """Topics a paper is on: a keyword in its title or AI keywords, or two in its abstract."""
    head = (paper.get("title") or "") + " | " + " | ".join(paper.get("ai_keywords") or [])
    abstract = paper.get("abstract") or ""
    return {topic for topic, pattern in PATTERNS.items()
            if pattern.search(head) or len(pattern.findall(abstract)) >= 2}


@dataclass
class Catalogue:
    papers: list[dict]
    topics: dict[str, set[str]] = field(default_factory=dict)
    day: dict[str, date] = field(default_factory=dict)
    by_day: dict[date, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for paper in self.papers:
            pid = paper["paper_id"]
            self.topics[pid] = topics_of(paper)
            self.day[pid] = date.fromisoformat(paper["daily_date"])
            self.by_day.setdefault(self.day[pid], []).append(pid)
        upvotes = {p["paper_id"]: p.get("upvotes") or 0 for p in self.papers}
        for ids in self.by_day.values():
            ids.sort(key=lambda pid: (-upvotes[pid], pid))
        self.days = sorted(self.by_day)

    def recent_days(self, n: int, until: date | None = None) -> list[date]:
        days = [d for d in self.days if until is None or d <= until]
        return days[-n:]

    def window(self, until: date) -> list[str]:
        """Papers of the ``DAYS`` days ending at ``until`` (as the API's window)."""
        first = until - timedelta(days=DAYS - 1)
        return [pid for d in self.days if first <= d <= until for pid in self.by_day[d]]


class Api:
    """The product's HTTP API through the Flask test client."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def new_user(self) -> dict[str, str]:
        response = self.client.post("/v1/users")
        assert response.status_code == 201, response.get_json()
        return {"Authorization": "Bearer " + response.get_json()["token"]}

    def events(self, headers, events: list[tuple[str, str]], now: datetime,
               rng: random.Random) -> None:
        rows = [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": kind,
                 "paper_id": pid, "source": "list",
                 "ts": (now - timedelta(seconds=rng.uniform(0, 2 * 86400))).isoformat()}
                for kind, pid in events]
        for start in range(0, len(rows), BATCH):
            response = self.client.post("/v1/events", json={"events": rows[start:start + BATCH]},
                                        headers=headers)
            assert response.status_code == 202, response.get_json()

    def recommendations(self, headers, until: date, limit: int = TOP) -> dict:
        response = self.client.get(
            f"/v1/recommendations?limit={limit}&days={DAYS}&until={until.isoformat()}",
            headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def trending(self, until: date, limit: int) -> list[str]:
        response = self.client.get(f"/v1/trending?limit={limit}&days={DAYS}&until={until}")
        assert response.status_code == 200, response.get_json()
        return [item["paper_id"] for item in response.get_json()["items"]]

    def delete(self, headers) -> None:
        assert self.client.delete("/v1/me", headers=headers).status_code == 204


def community(api: Api, cat: Catalogue, n_users: int, rng: random.Random,
              now: datetime) -> tuple[Counter, dict[str, Counter]]:
    """``n_users`` readers browse recent days; returns the number of events by kind and, per
    topic, how many of the topic's readers opened each paper (what only the simulation knows)."""
    kinds: Counter = Counter()
    opened_by_topic: dict[str, Counter] = {topic: Counter() for topic in TOPICS}
    recent = cat.recent_days(BROWSE_DAYS)
    names = sorted(TOPICS)
    for _ in range(n_users):
        topics = set(rng.sample(names, rng.choice((1, 1, 2))))
        events = []
        for day in rng.sample(recent, rng.randint(3, 8)):
            for pid in cat.by_day[day]:
                on = bool(cat.topics[pid] & topics)
                if rng.random() < (OPEN_ON if on else OPEN_OFF):
                    events.append(("open", pid))
                    for topic in topics:
                        opened_by_topic[topic][pid] += 1
                    if on and rng.random() < SAVE_ON:
                        events.append(("save", pid))
                elif not on and rng.random() < DISMISS_OFF:
                    events.append(("dismiss", pid))
        if events:
            api.events(api.new_user(), events, now, rng)
            kinds.update(kind for kind, _ in events)
    return kinds, opened_by_topic


@dataclass
class Reader:
    topic: str
    saves: list[str]
    until: date


def new_readers(cat: Catalogue, rng: random.Random, per_topic: int) -> list[Reader]:
    """Readers with 3-5 saves in one topic, each asking for a window ending on one of the
    last ``DAYS`` Daily Papers days (so several days are "today")."""
    readers = []
    untils = cat.recent_days(DAYS)
    for topic in sorted(TOPICS):
        for i in range(per_topic):
            until = untils[(i + len(readers)) % len(untils)]
            pool = [pid for d in cat.recent_days(BROWSE_DAYS, until)
                    for pid in cat.by_day[d] if topic in cat.topics[pid]]
            readers.append(Reader(topic, rng.sample(pool, min(len(pool), rng.randint(3, 5))),
                                  until))
    return readers


@dataclass
class Figures:
    product: list[float] = field(default_factory=list)
    content: list[float] = field(default_factory=list)
    trending: list[float] = field(default_factory=list)
    ceiling: list[float] = field(default_factory=list)
    bound: list[float] = field(default_factory=list)
    today_share: list[float] = field(default_factory=list)
    today_hit: list[bool] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    blends: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> dict:
        def avg(values):
            return round(mean(values), 3) if values else None

        return {"readers": len(self.product), "product": avg(self.product),
                "content": avg(self.content), "trending": avg(self.trending),
                "ceiling": avg(self.ceiling), "bound": avg(self.bound),
                "today_share": avg(self.today_share),
                "today_hit": f"{sum(self.today_hit)}/{len(self.today_hit)}",
                "reasons": dict(self.reasons),
                "blends": {name: avg(values) for name, values in self.blends.items()}}


def share(ids: list[str], wanted: set[str]) -> float:
    return sum(1 for pid in ids[:TOP] if pid in wanted) / TOP


def community_bound(ranked: list[dict], opened: Counter, on_topic: set[str]) -> float:
    """The best on-topic share a blend of the content ranking (``ranked``: every candidate
    with its score) and the true community signal (how many readers of the reader's own
    topic opened each paper, which no product can know exactly) reaches, over a few weights:
    an upper bound of what community signals can add to content."""
    ids = [item["paper_id"] for item in ranked]
    content = zscore(np.array([item["score"] for item in ranked]))[0]
    community_ = zscore(np.array([opened[pid] for pid in ids], dtype=np.float64))[0]
    best = 0.0
    for weight in (0.5, 1.0, 2.0, 4.0):
        order = np.argsort(-(content + weight * community_), kind="stable")
        best = max(best, share([ids[i] for i in order], on_topic))
    return best


def measure(api: Api, service, cat: Catalogue, readers: list[Reader], rng: random.Random,
            now: datetime, blends: dict[str, dict[str, float]], opened: dict[str, Counter]
            ) -> tuple[Figures, list[tuple[Reader, dict]]]:
    """Each reader saves their papers and asks for their lists."""
    figures = Figures()
    sessions = []
    for reader in readers:
        headers = api.new_user()
        api.events(headers, [("save", pid) for pid in reader.saves], now, rng)
        own = set(reader.saves)
        window = [pid for pid in cat.window(reader.until) if pid not in own]
        on_topic = {pid for pid in window if reader.topic in cat.topics[pid]}
        body = api.recommendations(headers, reader.until)
        ids = [item["paper_id"] for item in body["items"]]
        figures.product.append(share(ids, on_topic))
        figures.reasons.update(item["reason"]["kind"] for item in body["items"][:TOP])
        user_id = service.store.user_for_token(headers["Authorization"][7:])
        _, content = service.recommend(user_id, days=DAYS, limit=len(window), now=now,
                                       until=reader.until, blend={"content": 1.0})
        figures.content.append(share([item["paper_id"] for item in content], on_topic))
        figures.bound.append(community_bound(content, opened[reader.topic], on_topic))
        for name, weights in blends.items():
            _, other = service.recommend(user_id, days=DAYS, limit=TOP, now=now,
                                         until=reader.until, blend=weights)
            figures.blends.setdefault(name, []).append(
                share([item["paper_id"] for item in other], on_topic))
        trending = [pid for pid in api.trending(reader.until, TOP + len(own)) if pid not in own]
        figures.trending.append(share(trending, on_topic))
        figures.ceiling.append(min(len(on_topic), TOP) / TOP)
        today = {pid for pid in on_topic if cat.day[pid] == reader.until}
        if today:
            found = len(today & set(ids[:TOP]))
            figures.today_share.append(found / min(len(today), TOP))
            figures.today_hit.append(found > 0)
        sessions.append((reader, headers))
    return figures, sessions


def dismissal_check(api: Api, cat: Catalogue, sessions, rng: random.Random,
                    now: datetime) -> dict:
    """Three dismissals in an unwanted topic: that topic's share of the next top 10."""
    before, removed_only, after = [], [], []
    for reader, headers in sessions:
        ids = [item["paper_id"] for item in api.recommendations(headers, reader.until, 50)["items"]]
        off = [pid for pid in ids if reader.topic not in cat.topics[pid]]
        counts = Counter(t for pid in off[:2 * TOP] for t in cat.topics[pid])
        if not counts:
            continue
        unwanted = max(sorted(counts), key=counts.__getitem__)
        dismissed = [pid for pid in off if unwanted in cat.topics[pid]][:DISMISSALS]
        if len(dismissed) < DISMISSALS:
            continue
        wanted = {pid for pid in cat.window(reader.until)
                  if unwanted in cat.topics[pid] and reader.topic not in cat.topics[pid]}
        before.append(share(ids, wanted))
        removed_only.append(share([pid for pid in ids if pid not in dismissed], wanted))
        api.events(headers, [("dismiss", pid) for pid in dismissed], now, rng)
        again = [item["paper_id"] for item in api.recommendations(headers, reader.until)["items"]]
        after.append(share(again, wanted))
    return {"readers": len(before),
            "before": round(mean(before), 3) if before else None,
            "dismissed_removed_only": round(mean(removed_only), 3) if removed_only else None,
            "after": round(mean(after), 3) if after else None}


def train(redis_url: str, data_dir: str) -> dict:
    """Run ``paperfeed train`` as a user would; its exit code and last output line."""
    env = {**os.environ, "PAPERFEED_REDIS_URL": redis_url, "PAPERFEED_DATA_DIR": data_dir,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", "from backend.cli import main; main()",
                           "train", "--quiet"], env=env, capture_output=True, text=True,
                          cwd=ROOT)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return {"exit_code": done.returncode, "seconds": round(time.monotonic() - started, 1),
            "output": lines[-3:]}


def run(n_users: int, seed: int, catalogue: Catalogue, per_topic: int,
        blends: dict[str, dict[str, float]]) -> dict:
    from backend import create_app

    rng = random.Random(seed)
    now = datetime.now(UTC)
    with ExitStack() as stack:
        url, _ = stack.enter_context(private_redis())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="pf-topics-"))
        app = create_app({"REDIS_URL": url, "DATA_DIR": data_dir, "MODEL_POLL_SECONDS": 0,
                          "RATELIMIT_ENABLED": False})
        api = Api(app)
        store = app.extensions["paperfeed.store"]
        for start in range(0, len(catalogue.papers), 1000):
            store.upsert_papers(catalogue.papers[start:start + 1000])
        started = time.monotonic()
        kinds, opened = community(api, catalogue, n_users, rng, now)
        community_seconds = time.monotonic() - started
        readers = new_readers(catalogue, rng, per_topic)
        service = app.extensions["paperfeed.recommender"]
        untrained, sessions = measure(api, service, catalogue, readers, rng, now, {}, opened)
        for _, headers in sessions:
            api.delete(headers)
        trained_run = train(url, data_dir)
        version = service.model_version()
        trained, sessions = measure(api, service, catalogue, readers, rng, now, blends, opened)
        dismissals = dismissal_check(api, catalogue, sessions, rng, now)
    return {"users": n_users, "seed": seed, "events": dict(kinds),
            "community_seconds": round(community_seconds, 1), "train": trained_run,
            "model_version": version, "untrained": untrained.summary(),
            "trained": trained.summary(), "dismissals": dismissals}


def print_table(results: list[dict]) -> None:
    head = (f"{'users':>6} {'model':<10} {'readers':>7} {'product':>8} {'content':>8} "
            f"{'trending':>8} {'bound':>6} {'ceiling':>8} {'today':>6} {'today>=1':>9}")
    print(head)
    print("-" * len(head))
    for result in results:
        for name in ("untrained", "trained"):
            row = result[name]
            label = name if name == "untrained" or result["model_version"] else "(none)"
            print(f"{result['users']:>6} {label:<10} {row['readers']:>7} {row['product']:>8} "
                  f"{row['content']:>8} {row['trending']:>8} {row['bound']:>6} {row['ceiling']:>8} "
                  f"{row['today_share']:>6} {row['today_hit']:>9}")
    print()
    for result in results:
        d = result["dismissals"]
        print(f"{result['users']:>6} users: unwanted topic's share of the top 10: before "
              f"{d['before']}, dismissed papers removed only {d['dismissed_removed_only']}, "
              f"after three dismissals {d['after']} ({d['readers']} readers)")
        print(f"{'':>6} events {result['events']}; train exit {result['train']['exit_code']} "
              f"in {result['train']['seconds']} s; trained reasons {result['trained']['reasons']}")
        for name, value in result["trained"]["blends"].items():
            print(f"{'':>6} trained model served with {name}: on-topic share {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="50,5000",
                        help="community sizes, comma-separated (default 50,5000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--readers-per-topic", type=int, default=NEW_READERS_PER_TOPIC)
    parser.add_argument("--catalogue", type=Path, default=None)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--blend", action="append", default=[], metavar="JSON",
                        help='also measure the trained model with these serving weights, e.g. '
                             '\'{"content": 1, "readers": 1, "trending": 0.3}\' (repeatable)')
    args = parser.parse_args()
    blends = {text: json.loads(text) for text in args.blend}
    path = args.catalogue or (CATALOGUE if CATALOGUE.exists() else FALLBACK_CATALOGUE)
    from backend import importer

    catalogue = Catalogue(importer.read_papers(path).papers)
    results = []
    for n_users in (int(n) for n in args.users.split(",")):
        results.append(run(n_users, args.seed, catalogue, args.readers_per_topic, blends))
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
