"""Hyper-parameter search on validation splits carved from the training part of seed 0.

``python -m recommender.tune --data DIR`` prints, for each candidate configuration and blend
weights, nDCG@10 and R@50 on both validation protocols; test items of the evaluation splits
are never seen. The chosen values are written into ``DEFAULT_PARAMS`` by hand.
"""

from __future__ import annotations

import itertools
import json
import time

import click
import numpy as np

from .datasets import load_dataset, split_known, split_new
from .evaluation import evaluate_split

__all__ = ["validation_splits", "tune_command"]


def validation_splits(user_items, seed: int = 0, val_seed: int = 100):
    """Validation splits inside the training part of the evaluation split of ``seed``.

    Returns
    -------
    dict
        ``{"known": (train, val, None), "new": (train, val, held_out_items)}``.
    """
    tr_k, _ = split_known(user_items, 0.2, seed)
    vk_tr, vk_te = split_known(tr_k, 0.2, val_seed)
    tr_n, _, _ = split_new(user_items, 0.2, seed)
    warm = np.flatnonzero(np.diff(tr_n.tocsc().indptr) > 0)
    rng = np.random.default_rng(val_seed)
    held = np.sort(rng.choice(warm, size=int(round(0.2 * len(warm))), replace=False))
    mask = np.zeros(user_items.shape[1], dtype=bool)
    mask[held] = True
    coo = tr_n.tocoo()
    m = mask[coo.col]
    import scipy.sparse as sp

    vn_tr = sp.csr_matrix((coo.data[~m], (coo.row[~m], coo.col[~m])), shape=tr_n.shape)
    vn_te = sp.csr_matrix((coo.data[m], (coo.row[m], coo.col[m])), shape=tr_n.shape)
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
              help="Seed of the validation split inside seed 0's training part (a second "
                   "split, e.g. 101, checks that a choice is not noise of one split).")
def tune_command(data_dir: str, protocol: str, configs: str, val_seed: int) -> None:
    """Score param configurations x blend weights on the validation splits."""
    data = load_dataset(data_dir)
    splits = validation_splits(data.user_items, val_seed=val_seed)
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
