"""ALS ensemble as concatenated factors: k fits with seeds s, s+1, ... side by side (one
256-dim model: joint user solve, one text map), vs the 128-factor default."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
import recommender.model as rm
from recommender.collaborative import fit_als
from recommender.model import blend
protocol, val_seed, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def fit_concat(weighted, factors, reg, alpha, iters, seed, threads=0):
    parts = [fit_als(weighted, factors, reg, alpha, iters, seed + j, threads) for j in range(k)]
    return np.hstack([p[0] for p in parts]), np.hstack([p[1] for p in parts])

d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)[protocol]
cands = None if cands is None else np.asarray(cands)
t = time.time(); base = train(tr, d.item_features, {}); print("base fit", time.time() - t)
rm.fit_als = fit_concat
t = time.time(); ens = train(tr, d.item_features, {}); print("ens fit", time.time() - t, flush=True)
def comp_fn(rows, cand):
    c = base.component_scores(rows, cand)
    c["ens"] = ens.component_scores(rows, cand)["als"]
    return c
B = {}
for w in (.8, .85, .9):
    B[f"base {w}"] = (lambda w: lambda c: blend(c, {"als": w, "content": 1 - w}))(w)
    B[f"concat{k} {w}"] = (lambda w: lambda c: blend(c, {"ens": w, "content": 1 - w}))(w)
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"{protocol}{val_seed}", res)
