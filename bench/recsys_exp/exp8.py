"""Cold-item factor norm rescaling (cosine-like ALS scores) and content sharpening, on the cached model."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import load
proto = "new"
d, splits = get_data()
tr, te, cands = splits[proto]
model = load(f"/tmp/m_{proto}_val", mmap=False)
F = np.asarray(model._a["item_factors"])
nrm = np.linalg.norm(F, axis=1)
print("cold norm quantiles", np.quantile(nrm[cands], [0.05, 0.25, 0.5, 0.75, 0.95]))
G = {g: F / np.maximum(nrm, 1e-9)[:, None] ** g for g in (0.25, 0.5, 1.0, -0.25)}
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    for g, f in G.items():
        c[f"n{g}"] = uf @ f[cand].T
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid": mk({"als": .8, "content": .2})}
for g in G:
    B[f"n{g}"] = mk({f"n{g}": 1})
    for w in (0.7, 0.8):
        B[f"h{w} n{g}"] = mk({f"n{g}": w, "content": 1 - w})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(proto, res)
