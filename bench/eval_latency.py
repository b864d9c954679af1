"""Latency of the model API on citeulike-t: train once, then time per-user scoring.

Usage: OPENBLAS_NUM_THREADS=1 python bench/eval_latency.py [/work/shared/datasets/citeulike-t]

Without OPENBLAS_NUM_THREADS=1 a busy 2-core machine shows 100+ ms tails (BLAS threads spin).
"""

from __future__ import annotations

import sys
import time

import numpy as np

import recommender
from recommender.datasets import load_dataset


def main(data_dir: str) -> None:
    data = load_dataset(data_dir)
    t0 = time.perf_counter()
    model = recommender.train(data.user_items, data.item_features)
    print(f"train: {time.perf_counter() - t0:.1f} s "
          f"({data.n_users} users, {data.n_items} items, {data.user_items.nnz} saves)")
    rng = np.random.default_rng(0)
    users = rng.choice(data.n_users, size=200, replace=False)
    times = []
    for u in users:
        cands = rng.choice(data.n_items, size=2000, replace=False)
        row = data.user_items[u]
        t = time.perf_counter()
        model.blend(model.component_scores(row, cands))
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    print(f"score 2000 candidates, 1 user: median {np.median(ms):.2f} ms, "
          f"p95 {np.percentile(ms, 95):.2f} ms, max {ms.max():.2f} ms")
    new = data.item_features[:50]
    t = time.perf_counter()
    model.add_items(new)
    print(f"add_items(50): {(time.perf_counter() - t) * 1000:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/datasets/citeulike-t")
