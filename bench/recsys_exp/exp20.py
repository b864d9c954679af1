"""Cold items scored through the word pseudo-users' (user-side) factors: sum_w x_iw (u . w_w)."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import unit_rows
val_seed = int(sys.argv[1])
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)["new"]
model = train(tr, d.item_features, {})
a = model._a
vec = model.item_vectors(); cands = np.asarray(cands)
W = np.asarray(a["word_factors"])
wf = np.asarray(vec[cands] @ W)
V = {"wsum": wf, "wsum_unit": unit_rows(wf)}
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    for k, f in V.items():
        c[k] = uf @ f.T
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid(default)": mk({"als": .85, "content": .15})}
for k in V:
    B[f"{k} alone"] = mk({k: 1})
    for w3 in (0.1, 0.2, 0.3):
        B[f"h + {w3} {k}"] = mk({"als": .85, "content": .15, k: w3})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"new{val_seed}", res)
