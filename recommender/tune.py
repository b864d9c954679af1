"""Hyper-parameter search on validation splits that share nothing with any seed's test sets.

``python -m recommender.tune --data DIR`` prints, for each candidate configuration and blend
weights, nDCG@10 and R@50 on both validation protocols. The validation data is what no
evaluation seed (0..``--seeds``-1) ever tests on: the saves in the training part of every
seed's known split, of the items in no seed's held-out set of the new split. The chosen
values are written into ``DEFAULT_PARAMS`` by hand.
"""

from __future__ import annotations

import itertools
import json
import time

import click
import numpy as np
import scipy.sparse as sp

from .datasets import load_dataset, split_known, split_new
from .evaluation import evaluate_split, split_served

__all__ = ["validation_pool", "validation_splits", "tune_command"]


def validation_pool(user_items: sp.csr_matrix, seeds: int = 3) -> tuple[sp.csr_matrix, np.ndarray]:
    """The saves no evaluation seed tests on, and the items none of them holds out.

    Every seed's known split, new split and served split (:func:`split_served`) is drawn;
    a save survives if it is in the training part of each, an item if none holds it out.

    Returns
    -------
    (saves, items)
        Users x items matrix of the surviving saves (of surviving items only); sorted ids
        of the surviving items.
    """
    m = sp.csr_matrix(user_items)
    keep = m.copy()
    keep.data[:] = 1.0
    items = np.ones(m.shape[1], dtype=bool)
    for seed in range(seeds):
        _, known_test = split_known(m, 0.2, seed)
        _, new_test, new_held = split_new(m, 0.2, seed)
        _, served_test, served_new = split_served(m, seed)
        for test in (known_test, new_test, served_test):
            keep = keep - keep.multiply(test > 0)
        items[new_held] = False
        items[served_new] = False
    keep.eliminate_zeros()
    keep = keep.multiply(items[None, :]).tocsr()
    keep.eliminate_zeros()
    saves = m.multiply(keep > 0).tocsr()
    saves.eliminate_zeros()
    return saves, np.flatnonzero(items)


def validation_splits(user_items, seeds: int = 3, val_seed: int = 100):
    """Known and new validation splits of :func:`validation_pool`.

    Returns
    -------
    dict
        ``{"known": (train, val, None), "new": (train, val, held_out_items)}``.
    """
    pool, items = validation_pool(user_items, seeds)
    vk_tr, vk_te = split_known(pool, 0.2, val_seed)
    rng = np.random.default_rng(val_seed)
    warm = items[np.diff(pool.tocsc().indptr)[items] > 0]
    held = np.sort(rng.choice(warm, size=int(round(0.2 * len(warm))), replace=False))
    mask = np.zeros(user_items.shape[1], dtype=bool)
    mask[held] = True
    coo = pool.tocoo()
    m = mask[coo.col]
    vn_tr = sp.csr_matrix((coo.data[~m], (coo.row[~m], coo.col[~m])), shape=pool.shape)
    vn_te = sp.csr_matrix((coo.data[m], (coo.row[m], coo.col[m])), shape=pool.shape)
    return {"known": (vk_tr, vk_te, None), "new": (vn_tr, vn_te, held)}


WEIGHT_GRID = {
    f"w{a}_{p}": {"als": a, "content": round(1 - a, 2), "popularity": p}
    for a, p in itertools.product((0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9), (0.0,))
}


@click.command("tune")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--protocol", type=click.Choice(["known", "new", "both"]), default="both")
@click.option("--configs", default="{}",
              help='JSON list of param overrides to try, e.g. \'[{"ridge_alpha": 3}]\'.')
@click.option("--val-seed", default=100, show_default=True,
              help="Seed of the validation split (a second split, e.g. 101, checks that a "
                   "choice is not noise of one split).")
@click.option("--seeds", default=3, show_default=True,
              help="Evaluation seeds whose test sets the validation data avoids.")
def tune_command(data_dir: str, protocol: str, configs: str, val_seed: int, seeds: int) -> None:
    """Score param configurations x blend weights on the validation splits."""
    data = load_dataset(data_dir)
    splits = validation_splits(data.user_items, seeds=seeds, val_seed=val_seed)
    cfgs = json.loads(configs)
    cfgs = cfgs if isinstance(cfgs, list) else [cfgs]
    protos = ["known", "new"] if protocol == "both" else [protocol]
    for cfg in cfgs:
        for proto in protos:
            t0 = time.time()
            tr, te, cands = splits[proto]
            res = evaluate_split(tr, te, data.item_features, cands, (50,), cfg, 0,
                                 extra_weights=WEIGHT_GRID)
            best = sorted(((v["nDCG@10"].mean(), v["R@50"].mean(), k) for k, v in res.items()),
                          reverse=True)
            line = " ".join(f"{k}:{n:.4f}/{r:.4f}" for n, r, k in best[:4])
            base = " ".join(f"{k}:{res[k]['nDCG@10'].mean():.4f}/{res[k]['R@50'].mean():.4f}"
                            for k in ("als", "content", "hybrid"))
            click.echo(f"{proto} {json.dumps(cfg)} [{time.time() - t0:.0f}s] {base} | {line}")


if __name__ == "__main__":  # pragma: no cover
    tune_command()
