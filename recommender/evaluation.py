"""Offline evaluation: the "known" and "new" protocols and the ``paperfeed eval`` command."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
import numpy as np
import scipy.sparse as sp

from .datasets import Dataset, load_dataset, split_known, split_new
from .metrics import top_k
from .model import train

__all__ = ["MODELS", "evaluate_split", "run_protocol", "run", "eval_command", "markdown_table"]

MODELS = ("random", "popularity", "als", "content", "hybrid")


def _metric_names(ks: tuple[int, ...]) -> list[str]:
    return ["nDCG@10", "P@10"] + [f"R@{k}" for k in ks]


def evaluate_split(train_ui: sp.csr_matrix, test_ui: sp.csr_matrix,
                   item_features: sp.csr_matrix | None, candidates: np.ndarray | None,
                   ks: tuple[int, ...] = (10, 50, 100), params: dict | None = None,
                   seed: int = 0, batch: int = 512,
                   extra_weights: dict[str, dict[str, float]] | None = None,
                   ) -> dict[str, dict[str, np.ndarray]]:
    """Train on ``train_ui`` and rank for every user with a test item.

    Parameters
    ----------
    train_ui, test_ui : scipy.sparse.csr_matrix
        Disjoint users x items matrices.
    item_features : scipy.sparse.csr_matrix or None
    candidates : numpy.ndarray or None
        Item ids each user ranks; None means every item except the user's training items.
    ks : tuple of int
        Cut-offs for recall.
    params : dict, optional
        Model params (None = the product defaults).
    seed : int
        Seed of the model and of the random baseline.
    extra_weights : dict, optional
        Extra blends to score from the same components (name -> weights), for tuning.

    Returns
    -------
    dict
        model -> metric -> per-user values (numpy arrays).
    """
    model = train(train_ui, item_features, {**(params or {}), "random_state": seed})
    rng = np.random.default_rng(seed + 1000)
    users = np.flatnonzero(np.diff(test_ui.indptr) > 0)
    cand = np.arange(train_ui.shape[1]) if candidates is None else np.asarray(candidates)
    kmax = max(max(ks), 10)
    disc = 1.0 / np.log2(np.arange(2, 12))
    names = _metric_names(ks)
    extra_weights = extra_weights or {}
    out = {m: {n: np.zeros(len(users)) for n in names} for m in (*MODELS, *extra_weights)}
    for s in range(0, len(users), batch):
        ub = users[s:s + batch]
        rows = train_ui[ub]
        comps = model.component_scores(rows, cand)
        scores = {
            "random": rng.random((len(ub), len(cand))),
            "popularity": comps["popularity"],
            "als": comps["als"],
            "content": comps.get("content", np.zeros((len(ub), len(cand)))),
            "hybrid": model.blend(comps),
        }
        for name, w in extra_weights.items():
            scores[name] = model.blend(comps, w)
        if candidates is None:
            r, c = rows.nonzero()
        te = test_ui[ub]
        for name, sc in scores.items():
            sc = np.array(sc, dtype=np.float64)
            if candidates is None:
                sc[r, c] = -np.inf
            top = cand[top_k(sc, kmax)]
            for j in range(len(ub)):
                rel = te.indices[te.indptr[j]:te.indptr[j + 1]]
                hit = np.isin(top[j], rel)
                i = s + j
                out[name]["P@10"][i] = hit[:10].sum() / 10
                out[name]["nDCG@10"][i] = (hit[:10] * disc).sum() / disc[:min(len(rel), 10)].sum()
                for k in ks:
                    out[name][f"R@{k}"][i] = hit[:k].sum() / len(rel)
    return out


def run_protocol(data: Dataset, protocol: str, seeds: list[int], ks: tuple[int, ...],
                 params: dict | None = None, log=None) -> dict[str, Any]:
    """Run one protocol over several seeds; means over users, then mean/std over seeds."""
    per_seed: dict[str, dict[str, list[float]]] = {m: {} for m in MODELS}
    n_users = []
    for seed in seeds:
        t0 = time.time()
        if protocol == "known":
            tr, te = split_known(data.user_items, 0.2, seed)
            cands = None
        elif protocol == "new":
            tr, te, cands = split_new(data.user_items, 0.2, seed)
        else:
            raise ValueError(protocol)
        res = evaluate_split(tr, te, data.item_features, cands, ks, params, seed)
        n_users.append(len(next(iter(res["hybrid"].values()))))
        for m, metrics in res.items():
            for name, vals in metrics.items():
                per_seed[m].setdefault(name, []).append(float(vals.mean()))
        if log:
            log(f"{protocol} seed {seed}: {n_users[-1]} users, hybrid nDCG@10 "
                f"{res['hybrid']['nDCG@10'].mean():.4f}, {time.time() - t0:.1f}s")
    models = {m: {name: {"mean": float(np.mean(v)), "std": float(np.std(v))}
                  for name, v in metrics.items()} for m, metrics in per_seed.items()}
    return {"users": int(round(float(np.mean(n_users)))), "models": models}


def run(data_dir: str, protocols: list[str], seeds: list[int], ks: tuple[int, ...],
        params: dict | None = None, log=None) -> dict[str, Any]:
    """Evaluate every protocol; the result has the JSON shape of ``paperfeed eval --json``."""
    data = load_dataset(data_dir)
    return {"data": data_dir, "seeds": list(seeds),
            "protocols": {p: run_protocol(data, p, seeds, ks, params, log) for p in protocols}}


def markdown_table(result: dict[str, Any], ks: tuple[int, ...] | None = None) -> str:
    """Markdown table (protocol, model, users, then mean ± std of each metric)."""
    lines = []
    for proto, pr in result["protocols"].items():
        names = list(next(iter(pr["models"].values())).keys())
        if not lines:
            lines.append("| protocol | model | users | " + " | ".join(names) + " |")
            lines.append("|---" * (3 + len(names)) + "|")
        for m, metrics in pr["models"].items():
            cells = [f"{metrics[n]['mean']:.3f} ± {metrics[n]['std']:.3f}" for n in names]
            lines.append(f"| {proto} | {m} | {pr['users']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@click.command("eval")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Directory with users.dat and optionally mult.dat / vocabulary.dat.")
@click.option("--protocol", type=click.Choice(["known", "new", "both"]), default="both",
              show_default=True)
@click.option("--seeds", type=int, default=3, show_default=True, help="Number of seeds (0..n-1).")
@click.option("--k", "k_list", default="10,50,100", show_default=True,
              help="Comma-separated recall cut-offs.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write all figures.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False),
              help="Write index.html and PNG recall@K plots here.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False),
              help="Update the results section (between markers) of this Markdown file.")
def eval_command(data_dir: str, protocol: str, seeds: int, k_list: str, json_out: str | None,
                 report_dir: str | None, markdown_out: str | None) -> None:
    """Evaluate random, popularity, ALS, content and the hybrid on a citeulike-style data set."""
    ks = tuple(sorted({int(k) for k in k_list.split(",") if k.strip()}))
    protocols = ["known", "new"] if protocol == "both" else [protocol]
    t0 = time.time()
    result = run(data_dir, protocols, list(range(seeds)), ks,
                 log=lambda msg: click.echo(msg, err=True))
    result["seconds"] = round(time.time() - t0, 1)
    table = markdown_table(result)
    click.echo(table)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    if report_dir or markdown_out:
        from .report import update_markdown, write_report

        if report_dir:
            write_report(result, report_dir)
        if markdown_out:
            update_markdown(result, markdown_out, report_dir)


if __name__ == "__main__":  # pragma: no cover
    eval_command(sys.argv[1:])
