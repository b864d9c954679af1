"""Robustness: normalised cold factors (map 0.8, kNN 0.7) on another new-protocol validation split."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.collaborative import solve_users
from recommender.content import knn_map
vs = int(sys.argv[1])
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=vs)["new"]
t0 = time.time()
model = train(tr, d.item_features, {"random_state": 0})
print("train", time.time() - t0, flush=True)
a = model._a; p = model.params
vec = model.item_vectors(); warm = a["warm_items"]
cold = np.setdiff1d(np.arange(model.n_train_items), warm)
learned = np.asarray(a["learned_factors"]); words = np.asarray(a["word_factors"])
vc = vec[cold]
fold = solve_users(sp.csr_matrix(vc) * float(p["text_weight"]) * float(p["alpha"]), lambda i: words[i], a["xtx"], 1.0)
knn = knn_map(vc, vec[warm], learned[warm], 20)
ridge = vc @ a["ridge_coef"]
unit = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
V = {"bn": unit(0.5 * fold + 0.25 * knn + 0.25 * ridge), "m": 0.2 * fold + 0.8 * (0.7 * knn + 0.3 * ridge)}
V["mn"] = unit(V["m"])
pos = np.full(model.n_train_items, -1); pos[cold] = np.arange(len(cold)); cidx = pos[np.asarray(cands)]
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    for k, f in V.items():
        c[k] = uf @ f[cidx].T
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid": mk({"als": .8, "content": .2}), "h.85": mk({"als": .85, "content": .15}), "als": mk({"als": 1})}
for k in V:
    B[k] = mk({k: 1})
    for w in (0.8, 0.85):
        B[f"h{w} {k}"] = mk({k: w, "content": 1 - w})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"new-vs{vs}", res)
