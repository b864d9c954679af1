"""Validation experiments: extra components computed next to the model's, many blends scored."""
import sys, time, pickle, os
import numpy as np, scipy.sparse as sp
from sklearn.preprocessing import normalize
sys.path.insert(0, "/work/main")
from recommender.datasets import load_dataset
from recommender.tune import validation_splits
from recommender.model import train, zscore
from recommender.metrics import top_k

DATA = "/work/shared/datasets/citeulike-t"
_cache = {}

def get_data():
    if "d" not in _cache:
        d = load_dataset(DATA)
        _cache["d"] = d
        _cache["splits"] = validation_splits(d.user_items)
    return _cache["d"], _cache["splits"]

def evaluate(tr, te, cands, comp_fn, blends, batch=256):
    """comp_fn(rows, cand, ub) -> dict of raw comps; blends: name -> fn(comps)->scores."""
    users = np.flatnonzero(np.diff(te.indptr) > 0)
    cand = np.arange(tr.shape[1]) if cands is None else np.asarray(cands)
    disc = 1.0 / np.log2(np.arange(2, 12))
    res = {b: [[], []] for b in blends}
    for s in range(0, len(users), batch):
        ub = users[s:s + batch]
        rows = tr[ub]
        comps = comp_fn(rows, cand)
        if cands is None:
            r, c = rows.nonzero()
        t = te[ub]
        for name, f in blends.items():
            sc = np.array(f(comps), dtype=np.float64)
            if cands is None:
                sc[r, c] = -np.inf
            top = cand[top_k(sc, 50)]
            for j in range(len(ub)):
                rel = t.indices[t.indptr[j]:t.indptr[j + 1]]
                hit = np.isin(top[j], rel)
                res[name][0].append((hit[:10] * disc).sum() / disc[:min(len(rel), 10)].sum())
                res[name][1].append(hit[:50].sum() / len(rel))
    return {b: (np.mean(v[0]), np.mean(v[1])) for b, v in res.items()}

def show(tag, res):
    for b, (n, r) in sorted(res.items(), key=lambda kv: -kv[1][0]):
        print(f"{tag} {b:40s} {n:.4f} {r:.4f}", flush=True)


# --- shared by exp18-exp22 -------------------------------------------------------------

def new_validation(val_seed):
    """The new-protocol validation split ``val_seed`` and the default model trained on it:
    ``(data, train, test, candidates, model)``."""
    d, tr, te, cands = validation_split("new", val_seed)
    return d, tr, te, cands, train(tr, d.item_features, {})


def validation_split(protocol, val_seed):
    """The data and its ``protocol`` validation split ``val_seed``: ``(data, train, test,
    candidates)``; candidates is None for the known protocol (every item)."""
    d = load_dataset(DATA)
    tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)[protocol]
    return d, tr, te, None if cands is None else np.asarray(cands)


def timed_train(tr, d, params=None, label="model"):
    """``train`` on the training part with ``params``, printing how long it took."""
    t = time.time()
    model = train(tr, d.item_features, params or {})
    print(label, "fit", round(time.time() - t, 1), flush=True)
    return model


def with_als_of(base, others):
    """``comp_fn`` for :func:`evaluate`: ``base``'s components plus, per name in ``others``
    (name -> model), that model's ALS scores."""
    def comp_fn(rows, cand):
        c = base.component_scores(rows, cand)
        for name, m in others.items():
            c[name] = m.component_scores(rows, cand)["als"]
        return c
    return comp_fn


def with_factor_variants(model, variants):
    """``comp_fn`` for :func:`evaluate`: the model's components plus, per name in
    ``variants`` (candidates x factors), the user's ALS vector dotted with those factors."""
    def comp_fn(rows, cand):
        c = model.component_scores(rows, cand)
        uf = model.user_factors(rows)
        for name, factors in variants.items():
            c[name] = uf @ factors.T
        return c
    return comp_fn


def cold_map_parts(model, items):
    """The pieces of the model's cold map for ``items``: (fold-in on the word pseudo-users,
    kNN map, ridge map), as ``HybridModel._raw_map`` mixes them."""
    from recommender.collaborative import solve_users
    from recommender.content import knn_map
    a, p = model._a, model.params
    vec = model.item_vectors()
    rows = vec[items]
    warm = a["warm_items"]
    tw = float(p["text_weight"]) * float(p["alpha"])
    words = np.asarray(a["word_factors"])
    fold = solve_users(sp.csr_matrix(rows) * tw, lambda i: words[i], a["xtx"],
                       float(p["regularization"]))
    knn = knn_map(rows, vec[warm], np.asarray(a["learned_factors"])[warm], int(p["knn_k"]))
    return fold, knn, np.asarray(rows @ a["ridge_coef"])
