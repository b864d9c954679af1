"""Generate a synthetic paperfeed world straight into a private Redis, and snapshot it.

Writes, with the same key helpers the product uses (backend.keys):

* N papers ``pf:p:<id>`` (title, abstract, daily_date, upvotes) whose text is drawn from
  per-topic vocabularies (so TF-IDF content features mean something), ``pf:papers:day``,
  ``pf:papers:upvotes``, trending's reader counts (``keys.TRENDING_OPENERS`` and
  ``keys.TRENDING_SAVERS``, from the interactions) and ``pf:meta`` newest_daily_date = today; the
  newest ``--window-days`` days (+ the start day, as ``days=7`` queries them) hold
  ``--window-papers`` papers;
* users with power-law activity (Pareto counts rescaled to ``--interactions``), each with a
  mix of 1-3 favourite topics, choosing papers with power-law popularity; their state as
  the store keeps it (``opens`` counts, ``saved`` zsets; with the default settings the store
  derives weights min(opens, 3) * 1, +5 when saved), ids in ``pf:users``;
* ``--token-users`` real users made with ``Store.create_user`` (valid tokens), with
  interactions of the same distribution, for the serving bench.

Redis is a private ``redis-server`` on a free loopback port (``--save "" --appendonly no``);
at the end the world is snapshotted (``SAVE``) to ``<out>/world.rdb`` with ``<out>/world.json``
(sizes, tokens), and the server is shut down. ``bench/train.py`` and ``bench/recommend.py``
start their own server from that snapshot (see :func:`private_redis`).

    python bench/gen_world.py --out /tmp/pfbench/100k --users 100000 --papers 50000 \\
        --interactions 5000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import redis

from backend import embedded, keys
from backend.config import load_config
from backend.store import Store, day_number

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "du", "ga", "li", "mo",
             "ni", "ra", "te", "zu", "be", "co", "fa", "ho", "ju", "xe", "qui", "ster", "tron",
             "phon", "gram", "lex", "nar"]


# -- private redis -------------------------------------------------------------------------

@contextlib.contextmanager
def private_redis(directory: Path, dbfilename: str | None = None
                  ) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run a private ``redis-server`` on a free loopback port in ``directory``; yield
    ``(url, process)`` (``backend.embedded.private_redis``).

    With ``dbfilename`` (an RDB file in ``directory``) it starts from that snapshot; no
    persistence is ever configured (``--save "" --appendonly no``), so it never rewrites it.
    """
    started = time.perf_counter()
    args = ["--dbfilename", dbfilename or "unused.rdb", "--protected-mode", "yes",
            "--loglevel", "warning"]
    with embedded.private_redis(args, directory=directory, timeout=600) as (url, process):
        if dbfilename:
            print(f"redis: loaded {dbfilename} in {time.perf_counter() - started:.1f} s "
                  f"({url}, pid {process.pid})", file=sys.stderr)
        yield url, process


def redis_used_memory(url: str) -> int:
    """``used_memory`` of a server, bytes."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


# -- synthetic world -----------------------------------------------------------------------

def make_words(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """``n`` new pronounceable pseudo-words (3-4 syllables, not in ``taken``)."""
    out: list[str] = []
    while len(out) < n:
        k = int(rng.integers(2, 5))
        word = "".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), k))
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


def paper_ids_for(n: int) -> list[str]:
    """arXiv-like ids ``YYMM.NNNNN``, unique."""
    return [f"{2000 + i // 90000}.{10000 + i % 90000:05d}" for i in range(n)]


def power_law_counts(rng: np.random.Generator, n: int, total: int, shape: float,
                     cap: int) -> np.ndarray:
    """``n`` Pareto-distributed counts in [1, cap] summing to about ``total``."""
    raw = (1.0 - rng.random(n)) ** (-1.0 / shape)  # Pareto(shape), min 1
    lo, hi = 0.0, total / raw.sum() * 100
    for _ in range(60):  # bisect the scale so that the clipped counts sum to total
        mid = (lo + hi) / 2
        if np.clip(np.round(raw * mid), 1, cap).sum() < total:
            lo = mid
        else:
            hi = mid
    return np.clip(np.round(raw * hi), 1, cap).astype(np.int64)


def generate_papers(rng: np.random.Generator, n_papers: int, n_topics: int,
                    abstract_words: int) -> tuple[list[str], list[str], np.ndarray]:
    """Titles, abstracts and main topic of every paper."""
    taken: set[str] = set()
    common = make_words(rng, 3000, taken)
    topic_vocab = [make_words(rng, 250, taken) for _ in range(n_topics)]
    topic = rng.integers(0, n_topics, n_papers)
    second = rng.integers(0, n_topics, n_papers)
    titles: list[str] = []
    abstracts: list[str] = []
    common_arr = np.array(common, dtype=object)
    vocab_arr = [np.array(v, dtype=object) for v in topic_vocab]
    # Zipf-ish word frequencies inside each vocabulary.
    zipf_topic = 1.0 / np.arange(1, 251) ** 0.9
    zipf_topic /= zipf_topic.sum()
    zipf_common = 1.0 / np.arange(1, 3001) ** 1.0
    zipf_common /= zipf_common.sum()
    lengths = np.maximum(20, rng.normal(abstract_words, abstract_words / 4, n_papers).astype(int))
    n_main = (lengths * 0.5).astype(int)
    n_second = (lengths * 0.15).astype(int)
    n_common = lengths - n_main - n_second
    # Draw every word index at once, then cut per paper.
    main_idx = rng.choice(250, int(n_main.sum()), p=zipf_topic)
    second_idx = rng.choice(250, int(n_second.sum()), p=zipf_topic)
    common_idx = rng.choice(3000, int(n_common.sum()), p=zipf_common)
    title_idx = rng.choice(250, 6 * n_papers, p=zipf_topic)
    om = np.concatenate([[0], np.cumsum(n_main)])
    os_ = np.concatenate([[0], np.cumsum(n_second)])
    oc = np.concatenate([[0], np.cumsum(n_common)])
    for p in range(n_papers):
        words = np.concatenate([vocab_arr[topic[p]][main_idx[om[p]:om[p + 1]]],
                                vocab_arr[second[p]][second_idx[os_[p]:os_[p + 1]]],
                                common_arr[common_idx[oc[p]:oc[p + 1]]]])
        rng.shuffle(words)
        titles.append(" ".join(vocab_arr[topic[p]][title_idx[6 * p:6 * p + 6]]).capitalize())
        abstracts.append(" ".join(words).capitalize() + ".")
    return titles, abstracts, topic


def generate_interactions(rng: np.random.Generator, n_users: int, n_papers: int,
                          total: int, topic: np.ndarray, n_topics: int,
                          topic_bias: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, paper, weight) arrays sorted by user, unique pairs, about ``total`` of them."""
    popularity = 1.0 / rng.permutation(np.arange(1, n_papers + 1)) ** 0.9
    order = np.argsort(topic, kind="stable")  # papers grouped by topic
    cum = np.cumsum(popularity[order])
    topic_end = np.searchsorted(topic[order], np.arange(n_topics), side="right")
    topic_start = np.concatenate([[0], topic_end[:-1]])
    base = np.where(topic_start > 0, cum[np.maximum(topic_start - 1, 0)], 0.0)
    base[topic_start == 0] = 0.0
    span = cum[topic_end - 1] - base

    counts = power_law_counts(rng, n_users, total, shape=1.6, cap=max(1, n_papers // 20))
    # 1-3 favourite topics per user; each interaction picks one of them (or any paper).
    fav = rng.integers(0, n_topics, (n_users, 3))
    n_fav = rng.integers(1, 4, n_users)

    def sample(users: np.ndarray) -> np.ndarray:
        m = len(users)
        chosen_topic = fav[users, (rng.random(m) * n_fav[users]).astype(np.int64)]
        r = rng.random(m)
        in_topic = rng.random(m) < topic_bias
        value = np.where(in_topic, base[chosen_topic] + r * span[chosen_topic], r * cum[-1])
        return order[np.minimum(np.searchsorted(cum, value, side="right"), n_papers - 1)]

    pairs = np.zeros(0, dtype=np.int64)
    for _ in range(10):  # resample the duplicates' deficit until (nearly) every count is met
        have = np.bincount(pairs // n_papers, minlength=n_users)
        deficit = np.maximum(counts - have, 0)
        if deficit.sum() <= 0.001 * total:
            break
        users = np.repeat(np.arange(n_users, dtype=np.int64), np.ceil(deficit * 1.2).astype(np.int64))
        pairs = np.unique(np.concatenate([pairs, users * n_papers + sample(users)]))
    # Trim each user back to their count (drop the oversampled extra at random).
    rng.shuffle(pairs)
    u = pairs // n_papers
    rank_in_user = np.empty(len(pairs), dtype=np.int64)
    by_user = np.argsort(u, kind="stable")
    starts = np.searchsorted(u[by_user], np.arange(n_users))
    rank_in_user[by_user] = np.arange(len(pairs)) - np.repeat(starts, np.bincount(u, minlength=n_users))
    keep = rank_in_user < counts[u]
    pairs = np.sort(pairs[keep])
    u, p = pairs // n_papers, pairs % n_papers
    opens = rng.choice([0, 1, 2, 3], size=len(pairs), p=[0.03, 0.62, 0.2, 0.15])
    saved = (rng.random(len(pairs)) < 0.2) | (opens == 0)
    weights = np.minimum(opens, 3) + 5 * saved
    return u, p, weights.astype(np.int64)


def write_world(client: redis.Redis, store: Store, args: argparse.Namespace) -> dict:
    rng = np.random.default_rng(args.seed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    titles, abstracts, topic = generate_papers(rng, args.papers, args.topics, args.abstract_words)
    ids = paper_ids_for(args.papers)
    timings["gen_papers"] = time.perf_counter() - t0

    # Days: newest = today; the newest window_days + 1 day numbers (what days=7 reads)
    # hold window_papers papers, older papers continue at the same rate per day.
    today = datetime.now(UTC).date()
    per_day = max(1, args.window_papers // (args.window_days + 1))
    age = rng.permutation(args.papers) // per_day
    day_of = [today - timedelta(days=int(a)) for a in age]
    upvotes = np.floor(rng.pareto(1.2, args.papers) * 5).astype(np.int64)

    t0 = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for start in range(0, args.papers, 2000):
        stop = min(args.papers, start + 2000)
        by_day, by_votes = {}, {}
        for i in range(start, stop):
            pipe.hset(keys.paper(ids[i]), mapping={
                "title": titles[i], "abstract": abstracts[i],
                "daily_date": day_of[i].isoformat(), "upvotes": int(upvotes[i]),
                "num_comments": 0})
            by_day[ids[i]] = day_number(day_of[i])
            by_votes[ids[i]] = int(upvotes[i])
        pipe.zadd(keys.PAPERS_BY_DAY, by_day)
        pipe.zadd(keys.PAPERS_UPVOTES, by_votes)
        pipe.execute()
    client.hset(keys.META, "newest_daily_date", today.isoformat())
    timings["write_papers"] = time.perf_counter() - t0
    del titles, abstracts

    t0 = time.perf_counter()
    n_total_users = args.users + args.token_users
    u, p, w = generate_interactions(rng, n_total_users, args.papers, args.interactions,
                                    topic, args.topics, args.topic_bias)
    timings["gen_interactions"] = time.perf_counter() - t0

    # Trending's reader counts, as the store keeps them: per paper, the users who opened it
    # (weights 1-3 and 6-8) and the users who save it (weights 5-8).
    now = datetime.now(UTC)
    opened = (w % 5) != 0
    for key, mask in ((keys.TRENDING_OPENERS, opened), (keys.TRENDING_SAVERS, w >= 5)):
        counts = np.bincount(p[mask], minlength=args.papers)
        nonzero = np.flatnonzero(counts)
        for start in range(0, len(nonzero), 10_000):
            client.zadd(key, {ids[i]: int(counts[i]) for i in nonzero[start:start + 10_000]})
    in_window = age <= args.window_days

    # Real users with tokens: the last token_users user indices.
    t0 = time.perf_counter()
    tokens: list[str] = []
    token_ids: list[str] = []
    for _ in range(args.token_users):
        user_id, token = store.create_user(now)
        token_ids.append(user_id)
        tokens.append(token)
    user_ids = [f"{i:032x}" for i in range(args.users)] + token_ids
    timings["create_token_users"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    bounds = np.searchsorted(u, np.arange(n_total_users + 1))
    p_list = p.tolist()
    w_list = w.tolist()
    saved_at = int(now.timestamp() * 1000)
    pipe = client.pipeline(transaction=False)
    batch_ids: list[str] = []
    for user in range(n_total_users):
        lo, hi = int(bounds[user]), int(bounds[user + 1])
        uid = user_ids[user]
        # the state the store keeps, from which it derives these weights: w % 5 opens,
        # saved when w >= 5
        opens = {ids[p_list[j]]: w_list[j] % 5 for j in range(lo, hi) if w_list[j] % 5}
        saved = {ids[p_list[j]]: saved_at - j for j in range(lo, hi) if w_list[j] >= 5}
        if opens:
            pipe.hset(keys.user(uid, "opens"), mapping=opens)
        if saved:
            pipe.zadd(keys.user(uid, "saved"), saved)
        batch_ids.append(uid)
        if len(batch_ids) >= args.batch_users:
            pipe.sadd(keys.USERS, *batch_ids)
            pipe.execute()
            batch_ids = []
    if batch_ids:
        pipe.sadd(keys.USERS, *batch_ids)
        pipe.execute()
    timings["write_interactions"] = time.perf_counter() - t0

    counts = np.diff(bounds)
    window_count = int(in_window.sum())
    return {
        "sizes": {"users": n_total_users, "papers": args.papers,
                  "interactions": int(len(u)), "window_papers": window_count,
                  "window_days": args.window_days, "topics": args.topics},
        "activity": {"mean": float(counts.mean()), "median": float(np.median(counts)),
                     "p99": float(np.percentile(counts, 99)), "max": int(counts.max())},
        "newest_daily_date": today.isoformat(),
        "tokens": tokens, "token_user_ids": token_ids,
        "timings": timings, "seed": args.seed,
        "generated_at": datetime.now(UTC).isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for world.rdb/.json")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--papers", type=int, default=50_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--window-papers", type=int, default=2000)
    parser.add_argument("--window-days", type=int, default=7)
    parser.add_argument("--topics", type=int, default=60)
    parser.add_argument("--topic-bias", type=float, default=0.8,
                        help="share of interactions inside the user's favourite topics")
    parser.add_argument("--abstract-words", type=int, default=150)
    parser.add_argument("--token-users", type=int, default=300)
    parser.add_argument("--batch-users", type=int, default=1000, help="users per pipeline")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    config = load_config({"RATELIMIT_ENABLED": False})
    with private_redis(args.out) as (url, _process):
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=600)
        store = Store(client, config)
        world = write_world(client, store, args)
        world["redis_used_memory_mb"] = redis_used_memory(url) / 2**20
        t0 = time.perf_counter()
        client.config_set("dbfilename", "world.rdb")
        client.save()
        world["timings"]["snapshot"] = time.perf_counter() - t0
        client.close()
    world["timings"]["total"] = time.perf_counter() - started
    (args.out / "world.json").write_text(json.dumps(world, indent=1))
    s, t = world["sizes"], world["timings"]
    print(f"\nworld in {args.out}  ({os.path.getsize(args.out / 'world.rdb') / 2**20:.0f} MB rdb, "
          f"redis used_memory {world['redis_used_memory_mb']:.0f} MB)")
    print("| users | papers | interactions | window papers | mean/median/p99/max per user |")
    a = world["activity"]
    print(f"| {s['users']} | {s['papers']} | {s['interactions']} | {s['window_papers']} | "
          f"{a['mean']:.1f} / {a['median']:.0f} / {a['p99']:.0f} / {a['max']} |")
    print("| stage | seconds |")
    for name, value in t.items():
        print(f"| {name} | {value:.1f} |")


if __name__ == "__main__":
    main()
