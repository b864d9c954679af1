"""Hubness of cold items: normalise mapped factors by their norm, or standardise each item's score over
the training users (centre by the mean user, scale by the users' covariance)."""
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
words = np.asarray(a["word_factors"])
vc = vec[cold]
fold = solve_users(sp.csr_matrix(vc) * float(p["text_weight"]) * float(p["alpha"]), lambda i: words[i], a["xtx"], 1.0)
knn = knn_map(vc, vec[warm], learned[warm], 20)
ridge = vc @ a["ridge_coef"]
conf = model.bm25.transform(tr); conf.data *= p["alpha"]
U = solve_users(conf, lambda i: learned[i], a["yty"], 1.0).astype(np.float64)
U = U[np.diff(tr.indptr) > 0]
mu = U.mean(0); S = np.cov(U.T)
m = 0.2 * fold + 0.8 * (0.7 * knn + 0.3 * ridge)
b = 0.5 * fold + 0.25 * knn + 0.25 * ridge
V = {}
for nm, x in (("m", m), ("b", b)):
    nrm = np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    sd = np.sqrt(np.maximum(np.einsum("if,fg,ig->i", x, S, x), 1e-18))[:, None]
    V[nm + "n1"] = x / nrm
    V[nm + "n1.5"] = x / nrm ** 1.5
    V[nm + "s"] = x / sd
pos = np.full(model.n_train_items, -1); pos[cold] = np.arange(len(cold)); cidx = pos[np.asarray(cands)]
off = {}
for nm, x in (("m", m), ("b", b)):
    sd = np.sqrt(np.maximum(np.einsum("if,fg,ig->i", x, S, x), 1e-18))
    off[nm] = (x @ mu / sd)[cidx]
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    for k, f in V.items():
        c[k] = uf @ f[cidx].T
    for nm in ("m", "b"):
        c[nm + "cs"] = c[nm + "s"] - off[nm][None]
        c[nm + "cs.5"] = c[nm + "s"] - 0.5 * off[nm][None]
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid": mk({"als": .8, "content": .2})}
for k in ("mn1", "mn1.5", "ms", "mcs", "mcs.5", "bn1", "bn1.5", "bs", "bcs", "bcs.5"):
    B[k] = mk({k: 1})
    for w in (0.8, 0.85):
        B[f"h{w} {k}"] = mk({k: w, "content": 1 - w})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(proto, res)
