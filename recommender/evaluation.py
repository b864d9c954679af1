"""Offline evaluation: the "known", "new" and "served" protocols and ``paperfeed eval``."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import served
from .adapt import ValidationSlice, adapt
from .datasets import Dataset, load_dataset, split_known, split_new
from .metrics import hit_metrics, top_k
from .model import train
from .progress import Progress
from .readers import ReadersIndex

__all__ = ["MODELS", "SERVED_MODELS", "PROTOCOLS", "evaluate_split", "split_served",
           "run_served", "run_protocol", "run", "evaluate", "markdown_table"]

MODELS = ("random", "popularity", "als", "content", "hybrid")
#: What the served protocol reports: the served blend, each of its components alone, and
#: the blend serving uses without a trained model.
SERVED_MODELS = ("random", "untrained", *served.COMPONENTS, "hybrid")
PROTOCOLS = {"known": ["known"], "new": ["new"], "served": ["served"],
             "both": ["known", "new", "served"], "all": ["known", "new", "served"]}


def _metric_names(ks: tuple[int, ...]) -> list[str]:
    return ["nDCG@10", "P@10"] + [f"R@{k}" for k in ks]


def evaluate_split(train_ui: sp.csr_matrix, test_ui: sp.csr_matrix,
                   item_features: sp.csr_matrix | None, candidates: np.ndarray | None,
                   ks: tuple[int, ...] = (10, 50, 100), params: dict | None = None,
                   seed: int = 0, batch: int = 512,
                   extra_weights: dict[str, dict[str, float]] | None = None,
                   progress=None) -> dict[str, dict[str, np.ndarray]]:
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
    progress : callable, optional
        Called with the fraction of users scored so far.

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
            hits = np.array([np.isin(top[j], te.indices[te.indptr[j]:te.indptr[j + 1]])
                             for j in range(len(ub))])
            for metric, values in hit_metrics(hits, np.diff(te.indptr), ks).items():
                out[name][metric][s:s + len(ub)] = values
        if progress:
            progress(min(1.0, (s + batch) / len(users)))
    return out


def split_served(user_items: sp.csr_matrix, seed: int, new_fraction: float = 0.2,
                 test_fraction: float = 0.2) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """The served protocol's split: ``new_fraction`` of the items held out with all their
    saves (papers nobody has read yet) and, of the other items, ``test_fraction`` of each
    user's saves (papers others have read).

    Returns
    -------
    train, test : scipy.sparse.csr_matrix
    new_items : numpy.ndarray
        The items held out whole.
    """
    without_new, new_saves, new_items = split_new(user_items, new_fraction, seed)
    train_part, known_saves = split_known(without_new, test_fraction, seed)
    return train_part, (new_saves + known_saves).tocsr(), new_items


def run_served(train_ui: sp.csr_matrix, test_ui: sp.csr_matrix,
               item_features: sp.csr_matrix | None, seed: int, params: dict | None = None,
               exclude_items: np.ndarray | None = None, window: int = 300,
               progress=None) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """The served protocol on one split, with the model ``paperfeed train`` would publish.

    A validation split is carved from ``train_ui`` (:func:`split_served` again); on it
    :func:`recommender.adapt.adapt` chooses the ALS settings, the scale of papers without
    readers and the blend, and fits the model, as training does on a store. Each test user's
    window is then ranked with that model from the user's whole ``train_ui`` row (serving
    solves user vectors from all current interactions). Validation windows never contain
    ``exclude_items`` (the test split's held-out papers), so nothing of the test split is
    seen when choosing.

    Returns
    -------
    (results, choice)
        model -> metric -> per-user values; ``choice``: the chosen blend and settings with
        their validation figures.
    """
    params = {**(params or {}), "random_state": seed}
    step = progress or (lambda fraction: None)
    val_train, val_test, _ = split_served(train_ui, seed + 100)
    pool = np.setdiff1d(np.arange(train_ui.shape[1]), exclude_items if exclude_items is not None
                        else np.zeros(0, dtype=np.int64))
    val_windows = served.sample_windows(val_train, val_test, seed + 100, window, pool=pool,
                                        max_users=2000)
    order = np.random.default_rng(seed + 100).permutation(len(val_windows.users))
    half = len(order) // 2
    split = ValidationSlice(val_train, val_test, val_windows.subset(np.sort(order[:half])),
                            val_windows.subset(np.sort(order[half:])), -1, -1)
    adapted = adapt(split, item_features, params,
                    progress=lambda message: step(0.1))
    step(0.7)
    choice = {"blend": adapted.blend, "cold_scale": adapted.params.get("cold_scale", 1.0),
              "candidates": adapted.candidates, "validation": adapted.check}
    windows = served.sample_windows(train_ui, test_ui, seed, window)
    raw = served.window_components(
        adapted.model, train_ui[windows.users], windows, served.trending_scores(train_ui),
        served.readers_scores(ReadersIndex(train_ui), train_ui[windows.users], windows))
    comps = served.standardise(raw)
    rng = np.random.default_rng(seed + 1000)
    blends = {"untrained": served.UNTRAINED_BLEND, **{c: {c: 1.0} for c in comps},
              "hybrid": adapted.blend}
    results = {"random": served.window_metrics(rng.random(windows.items.shape), windows.relevant)}
    results.update({name: served.blend_metrics(comps, windows.relevant, w)
                    for name, w in blends.items()})
    step(1.0)
    return results, choice


def run_protocol(data: Dataset, protocol: str, seeds: list[int], ks: tuple[int, ...],
                 params: dict | None = None, log=None,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Run one protocol over several seeds; means over users, then mean/std over seeds."""
    per_seed: dict[str, dict[str, list[float]]] = {
        m: {} for m in (SERVED_MODELS if protocol == "served" else MODELS)}
    n_users = []
    choices = []
    for seed in seeds:
        t0 = time.time()
        step = progress.step(f"{protocol} seed {seed}") if progress else None
        if protocol == "served":
            tr, te, new_items = split_served(data.user_items, seed)
            res, choice = run_served(tr, te, data.item_features, seed, params,
                                     exclude_items=new_items, progress=step)
            choices.append({"seed": seed, **choice})
        else:
            if protocol == "known":
                tr, te = split_known(data.user_items, 0.2, seed)
                cands = None
            elif protocol == "new":
                tr, te, cands = split_new(data.user_items, 0.2, seed)
            else:
                raise ValueError(protocol)
            res = evaluate_split(tr, te, data.item_features, cands, ks, params, seed,
                                 progress=step)
        n_users.append(len(next(iter(res["hybrid"].values()))))
        for m, metrics in res.items():
            for name, vals in metrics.items():
                per_seed[m].setdefault(name, []).append(float(vals.mean()))
        if log:
            recall = "R@50" if "R@50" in res["hybrid"] else f"R@{ks[0]}"
            figures = ", ".join(f"{m} {v['nDCG@10'].mean():.4f}/{v[recall].mean():.4f}"
                                for m, v in res.items())
            chosen = (f"; blend {choices[-1]['blend']}, cold scale {choices[-1]['cold_scale']}"
                      if choices else "")
            log(f"{protocol} seed {seed}: {n_users[-1]} users, {time.time() - t0:.1f}s; "
                f"nDCG@10/{recall} {figures}{chosen}")
    models = {m: {name: {"mean": float(np.mean(v)), "std": float(np.std(v))}
                  for name, v in metrics.items()} for m, metrics in per_seed.items()}
    out: dict[str, Any] = {"users": int(round(float(np.mean(n_users)))), "models": models}
    if choices:
        out["choices"] = choices
    return out


def run(data_dir: str, protocols: list[str], seeds: list[int], ks: tuple[int, ...],
        params: dict | None = None, log=None, progress: Progress | None = None
        ) -> dict[str, Any]:
    """Evaluate every protocol; the result has the JSON shape of ``paperfeed eval --json``."""
    data = load_dataset(data_dir)
    return {"data": data_dir, "seeds": list(seeds),
            "protocols": {p: run_protocol(data, p, seeds, ks, params, log, progress)
                          for p in protocols}}


def markdown_table(result: dict[str, Any], ks: tuple[int, ...] | None = None) -> str:
    """Markdown table (protocol, model, users, then mean ± std of each metric)."""
    lines = []
    header = None
    for proto, pr in result["protocols"].items():
        names = list(next(iter(pr["models"].values())).keys())
        if names != header:
            lines += [""] if lines else []
            lines.append("| protocol | model | users | " + " | ".join(names) + " |")
            lines.append("|---" * (3 + len(names)) + "|")
            header = names
        for m, metrics in pr["models"].items():
            cells = [f"{metrics[n]['mean']:.3f} ± {metrics[n]['std']:.3f}" for n in names]
            lines.append(f"| {proto} | {m} | {pr['users']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def evaluate(data_dir: str, protocol: str = "both", seeds: int = 3,
             ks: tuple[int, ...] = (10, 50, 100), json_out: str | None = None,
             report_dir: str | None = None, markdown_out: str | None = None) -> str:
    """Evaluate the recommender and its parts against baselines on a citeulike-style data
    set (``paperfeed eval``) and return the Markdown table of the figures; ``json_out``,
    ``report_dir`` and ``markdown_out`` also write them (all figures as JSON, an HTML report
    with plots, the results section of a Markdown file). Progress with an estimate of the
    time left goes to stderr every few seconds."""
    protocols = PROTOCOLS[protocol]
    t0 = time.time()
    with Progress(len(protocols) * seeds, "eval", unit="run", heartbeat=True) as progress:
        result = run(data_dir, protocols, list(range(seeds)), ks, log=progress.write,
                     progress=progress)
    result["seconds"] = round(time.time() - t0, 1)
    if json_out:
        with open(json_out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    if report_dir or markdown_out:
        from .report import update_markdown, write_report

        if report_dir:
            write_report(result, report_dir)
        if markdown_out:
            update_markdown(result, markdown_out, report_dir)
    return markdown_table(result)
