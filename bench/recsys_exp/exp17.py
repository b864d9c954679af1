"""Variants around the normalised cold map (map 0.8, kNN 0.7): kNN k, fold-in confidence, weights."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import load, unit_rows
from recommender.collaborative import solve_users
from recommender.content import knn_map
proto = "new"
d, splits = get_data()
tr, te, cands = splits[proto]
model = load(f"/tmp/m_{proto}_val", mmap=False)
a = model._a; p = model.params
vec = model.item_vectors(); warm = a["warm_items"]
cold = np.setdiff1d(np.arange(model.n_train_items), warm)
learned = np.asarray(a["learned_factors"]); words = np.asarray(a["word_factors"])
vc = vec[cold]
tw = float(p["text_weight"]) * float(p["alpha"])
fold = solve_users(sp.csr_matrix(vc) * tw, lambda i: words[i], a["xtx"], 1.0)
fold2 = solve_users(sp.csr_matrix(vc) * (2 * tw), lambda i: words[i], a["xtx"], 1.0)
K = {k: knn_map(vc, vec[warm], learned[warm], k) for k in (10, 20, 40)}
ridge = vc @ a["ridge_coef"]
def m(fw, kw, k=20, f=fold):
    return unit_rows((1 - fw) * f + fw * (kw * K[k] + (1 - kw) * ridge))
V = {"m.8_.7": m(.8, .7), "m.8_.7k10": m(.8, .7, 10), "m.8_.7k40": m(.8, .7, 40), "m.8_.7f2": m(.8, .7, f=fold2),
     "m.8_.85": m(.8, .85), "m.9_.7": m(.9, .7), "m.7_.7": m(.7, .7)}
pos = np.full(model.n_train_items, -1); pos[cold] = np.arange(len(cold)); cidx = pos[np.asarray(cands)]
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
    for w in (0.8, 0.85):
        B[f"h{w} {k}"] = mk({k: w, "content": 1 - w})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(proto, res)
