"""Cold maps: ridge on least-squares projection targets (score space, unweighted) and sharpened kNN."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import load
from recommender.collaborative import solve_users
from recommender.content import ridge_map
proto = "new"
d, splits = get_data()
tr, te, cands = splits[proto]
model = load(f"/tmp/m_{proto}_val", mmap=False)
a = model._a; p = model.params
vec = model.item_vectors(); warm = a["warm_items"]
learned = np.asarray(a["learned_factors"])
cold = np.setdiff1d(np.arange(model.n_train_items), warm)
F = np.asarray(a["item_factors"])
t0 = time.time()
conf = model.bm25.transform(tr); conf.data *= p["alpha"]
U = solve_users(conf, lambda i: learned[i], a["yty"], 1.0).astype(np.float64)
wt = warm[np.diff(vec.indptr)[warm] > 0]
G = U.T @ U
V = {}
for lam in (10.0, 100.0):
    T = np.linalg.solve(G + lam * np.eye(G.shape[0]), U.T @ tr[:, wt].toarray().astype(np.float64)).T
    W = ridge_map(vec[wt], T, 1.0)
    R = vec[cold] @ W
    s = np.linalg.norm(F[cold]) / np.linalg.norm(R)
    V[f"proj{lam}"] = R * s
print("proj", time.time() - t0, flush=True)
base = vec[warm]
def knnp(q, k, pw):
    out = np.zeros((q.shape[0], learned.shape[1]), np.float32)
    for s in range(0, q.shape[0], 512):
        sim = (q[s:s + 512] @ base.T).toarray()
        idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        w = np.maximum(np.take_along_axis(sim, idx, 1), 0) ** pw
        w /= np.maximum(w.sum(1, keepdims=True), 1e-12)
        out[s:s + 512] = np.einsum("qk,qkf->qf", w, learned[warm][idx])
    return out
K20 = knnp(vec[cold], 20, 1.0)
rest = F[cold] / model._a["map_scale"][0] - 0.25 * K20  # fold/ridge part of the base mix
for k, pw in ((20, 2.0), (20, 4.0), (50, 3.0), (10, 1.0)):
    V[f"knn{k}p{pw}"] = rest + 0.25 * knnp(vec[cold], k, pw)
print("knn", time.time() - t0, flush=True)
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
    B[k] = mk({k: 1}); B[f"h {k}"] = mk({k: .8, "content": .2})
    if k.startswith("proj"):
        for x in (0.2, 0.4):
            B[f"h als+{x}{k}"] = mk({"als": .8 - x, k: x, "content": .2})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(proto, res)
