"""Pseudo-relevance feedback (Rocchio) within the candidate set: expand the user's content profile
and/or ALS vector with the top-m candidates of the first-pass hybrid (new protocol, validation)."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend, unit_rows
val_seed = int(sys.argv[1]); proto = sys.argv[2] if len(sys.argv) > 2 else "new"
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)[proto]
model = train(tr, d.item_features, {})
vec = model.item_vectors()
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    first = 0.85 * zscore(c["als"]) + 0.15 * zscore(c["content"])
    if proto == "known":
        r, cc = rows.nonzero(); first[r, cc] = -np.inf
    prof = unit_rows((rows @ vec).toarray())
    cv = vec[cand]
    uf = model.user_factors(rows)
    F = model._factors_of(cand)
    for m in (5, 10, 20):
        top = top_k(first, m)
        sel = sp.csr_matrix((np.ones(top.size, dtype=np.float32), top.ravel(),
                             np.arange(0, top.size + 1, m)), shape=(len(rows.indptr) - 1, len(cand)))
        centroid = unit_rows((sel @ cv).toarray() / m)
        fc = (sel @ F) / m
        for b in (0.25, 0.5, 1.0):
            p2 = unit_rows(prof + b * centroid)
            c[f"c_m{m}_b{b}"] = np.asarray(cv @ p2.T).T
            c[f"f_m{m}_b{b}"] = (uf + b * fc) @ F.T
    return c
def mk(ws):
    return lambda c: blend(c, ws)
B = {"hybrid(default)": mk({"als": .85, "content": .15})}
for m in (5, 10, 20):
    for b in (0.25, 0.5, 1.0):
        B[f"content-prf m{m} b{b}"] = mk({"als": .85, f"c_m{m}_b{b}": .15})
        B[f"als-prf m{m} b{b}"] = mk({f"f_m{m}_b{b}": .85, "content": .15})
        B[f"both-prf m{m} b{b}"] = mk({f"f_m{m}_b{b}": .85, f"c_m{m}_b{b}": .15})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"{proto}{val_seed}", res)
