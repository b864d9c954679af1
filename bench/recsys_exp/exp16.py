"""Known-protocol check of normalised cold factors (map 0.8, kNN 0.7), scale calibrated like map_scale."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.collaborative import solve_users
proto = "known"
d, splits = get_data()
tr, te, cands = splits[proto]
t0 = time.time()
model = train(tr, d.item_features, {"random_state": 0})
print("train", time.time() - t0, flush=True)
a = model._a; p = model.params
vec = model.item_vectors(); warm = a["warm_items"]
cold = np.setdiff1d(np.arange(model.n_train_items), warm)
print("cold items", len(cold), flush=True)
learned = np.asarray(a["learned_factors"])
conf = model.bm25.transform(tr); conf.data *= p["alpha"]
U = solve_users(conf, lambda i: learned[i], a["yty"], 1.0).astype(np.float64)
G = U.T @ U
rng = np.random.default_rng(0)
S = np.sort(rng.choice(warm[np.diff(vec.indptr)[warm] > 0], 4000, replace=False))
scale0 = float(a["map_scale"][0])
saved = dict(model.params)
model.params.update(fold_map_weight=0.8, map_knn_weight=0.7)
unit = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
mS = unit(model._map_factors(vec[S]) / scale0).astype(np.float64)
fg = mS @ G
s = float((fg * learned[S]).sum() / (fg * mS).sum())
print("scale", s, "base scale", scale0, flush=True)
Fv = np.array(a["item_factors"])
Fv[cold] = s * unit(model._map_factors(vec[cold]) / scale0)
model.params.clear(); model.params.update(saved)
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    c["v"] = uf @ Fv[cand].T
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid": mk({"als": .8, "content": .2}), "als": mk({"als": 1}), "v": mk({"v": 1}),
     "h.8 v": mk({"v": .8, "content": .2}), "h.85 v": mk({"v": .85, "content": .15})}
res = evaluate(tr, te, cands, comp_fn, B, batch=128)
show(proto, res)
