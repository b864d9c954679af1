"""Normalised cold factors with more weight on the ridge/kNN map."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import load
from recommender.collaborative import solve_users
from recommender.content import knn_map
proto = "new"
d, splits = get_data()
tr, te, cands = splits[proto]
model = load(f"/tmp/m_{proto}_val", mmap=False)
a = model._a; p = model.params
vec = model.item_vectors(); warm = a["warm_items"]
cold = np.setdiff1d(np.arange(model.n_train_items), warm)
learned = np.asarray(a["learned_factors"])
F = np.asarray(a["item_factors"])
words = np.asarray(a["word_factors"])
vc = vec[cold]
fold = solve_users(sp.csr_matrix(vc) * float(p["text_weight"]) * float(p["alpha"]), lambda i: words[i], a["xtx"], 1.0)
knn = knn_map(vc, vec[warm], learned[warm], 20)
ridge = vc @ a["ridge_coef"]
V = {}
for fw, kw in ((0.7, 0.5), (0.8, 0.5), (0.9, 0.5), (1.0, 0.5), (0.8, 0.3), (0.8, 0.7)):
    V[f"m{fw}_{kw}"] = (1 - fw) * fold + fw * (kw * knn + (1 - kw) * ridge)
for k in list(V):
    V[k + "n"] = V[k] / np.maximum(np.linalg.norm(V[k], axis=1, keepdims=True), 1e-9)
pos = np.full(model.n_train_items, -1); pos[cold] = np.arange(len(cold)); cidx = pos[np.asarray(cands)]
lw = learned[warm]; vw = vec[warm]
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    for k, f in V.items():
        c[k] = uf @ f[cidx].T
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid": mk({"als": .8, "content": .2})}
for k in V:
    for w in (0.75, 0.8, 0.85):
        if k.endswith("n") or w == 0.8:
            B[f"h{w} {k}"] = mk({k: w, "content": 1 - w})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(proto, res)
