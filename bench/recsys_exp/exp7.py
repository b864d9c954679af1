"""Supervised combination of the cold maps (fold-in, ridge, kNN), fitted on warm items.

Per text-length bucket mixing weights and an f x f linear correction, each fitted by least squares
in the metric of the training users' scores (learned ~ mix of maps), with cross-fitted ridge and
self-excluded kNN on the warm items so that the fit sees what a cold item gets.
"""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.collaborative import solve_users
from recommender.content import ridge_map
from recommender.model import load

proto = "new"
d, splits = get_data()
tr, te, cands = splits[proto]
path = f"/tmp/m_{proto}_val"
t0 = time.time()
if os.path.isdir(path):
    model = load(path, mmap=False)
else:
    model = train(tr, d.item_features, {"random_state": 0})
    model.save(path)
a = model._a
p = model.params
vec = model.item_vectors()
warm = a["warm_items"]
cold = np.setdiff1d(np.arange(model.n_train_items), warm)
words = np.asarray(a["word_factors"])
learned = np.asarray(a["learned_factors"])
tw = float(p["text_weight"]) * float(p["alpha"])
reg = float(p["regularization"])


def fold(v):
    return solve_users(sp.csr_matrix(v, dtype=np.float32) * tw, lambda ids: words[ids], a["xtx"], reg)


def knn(q, base, bf, k, self_idx=None):
    sim = (q @ base.T).toarray()
    if self_idx is not None:
        sim[np.arange(len(self_idx)), self_idx] = 0
    idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    w = np.maximum(np.take_along_axis(sim, idx, 1), 0)
    w /= np.maximum(w.sum(1, keepdims=True), 1e-12)
    return np.einsum("qk,qkf->qf", w, bf[idx])


# Users' metric
conf = model.bm25.transform(tr); conf.data *= p["alpha"]
U = solve_users(conf, lambda i: learned[i], a["yty"], reg).astype(np.float64)
G = U.T @ U
print("users", round(time.time() - t0, 1), flush=True)

rng = np.random.default_rng(0)
wt = warm[np.diff(vec.indptr)[warm] > 0]
S = np.sort(rng.choice(wt, size=min(6000, len(wt)), replace=False))
half = rng.random(len(wt)) < 0.5
Rs = np.zeros((len(S), learned.shape[1]))
inS = np.searchsorted(wt, S)
for h in (True, False):
    coef = ridge_map(vec[wt[half == h]], learned[wt[half == h]], float(p["ridge_alpha"]))
    sel = half[inS] != h
    Rs[sel] = vec[S[sel]] @ coef
posw = np.searchsorted(warm, S)
Ks = knn(vec[S], vec[warm], learned[warm], int(p["knn_k"]), posw)
Fs = fold(vec[S])
Ls = learned[S].astype(np.float64)
print("maps on warm sample", round(time.time() - t0, 1), flush=True)

vc = vec[cold]
Fc = fold(vc); Rc = vc @ a["ridge_coef"]
Kc = knn(vc, vec[warm], learned[warm], int(p["knn_k"]))
nnz_s = np.diff(vec.indptr)[S]; nnz_c = np.diff(vec.indptr)[cold]
edges = np.quantile(nnz_s, [0.25, 0.5, 0.75])
bs, bc = np.searchsorted(edges, nnz_s), np.searchsorted(edges, nnz_c)


def gls_weights(maps, target):
    """argmin_w sum_i |U (sum_k w_k m_ki - t_i)|^2."""
    A = np.array([[np.einsum("if,fg,ig->", x, G, y) for y in maps] for x in maps])
    b = np.array([np.einsum("if,fg,ig->", x, G, target) for x in maps])
    return np.linalg.solve(A, b)


def cv_r2(maps, target):
    w = gls_weights(maps, target)
    e = sum(wk * m for wk, m in zip(w, maps)) - target
    return w, 1 - np.einsum("if,fg,ig->", e, G, e) / np.einsum("if,fg,ig->", target, G, target)


V = {"base": 0.5 * Fc + 0.25 * Kc + 0.25 * Rc}
w, r2 = cv_r2([Fs, Ks, Rs], Ls)
print("global weights fold/knn/ridge", w, "R2", r2)
print("base weights R2", cv_r2([0.5 * Fs + 0.25 * Ks + 0.25 * Rs], Ls))
V["gls"] = w[0] * Fc + w[1] * Kc + w[2] * Rc
V["gls_norm"] = (w[0] * Fc + w[1] * Kc + w[2] * Rc) / w.sum()
Vb = np.zeros_like(Fc)
for b in range(4):
    wb, r2b = cv_r2([Fs[bs == b], Ks[bs == b], Rs[bs == b]], Ls[bs == b])
    print("bucket", b, wb, r2b)
    m = bc == b
    Vb[m] = wb[0] * Fc[m] + wb[1] * Kc[m] + wb[2] * Rc[m]
V["gls_bucket"] = Vb
# f x f linear correction of the base mix
Ms = 0.5 * Fs + 0.25 * Ks + 0.25 * Rs
for lam in (1.0, 100.0):
    A = np.linalg.solve(Ms.T @ Ms + lam * np.eye(Ms.shape[1]), Ms.T @ Ls)
    V[f"affine{lam}"] = V["base"] @ A
    # stacked: [fold, knn, ridge] -> learned
    X = np.hstack([Fs, Ks, Rs])
    A3 = np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ Ls)
    V[f"affine3_{lam}"] = np.hstack([Fc, Kc, Rc]) @ A3
print("variants", round(time.time() - t0, 1), flush=True)
pos = np.full(model.n_train_items, -1); pos[cold] = np.arange(len(cold))
cidx = pos[np.asarray(cands)]


def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    for k, f in V.items():
        c["als_" + k] = uf @ f[cidx].T
    return c


def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())


B = {"hybrid": mk({"als": .8, "content": .2})}
for k in V:
    B[k] = mk({"als_" + k: 1})
    for w in (0.7, 0.8):
        B[f"h{w} {k}"] = mk({"als_" + k: w, "content": 1 - w})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
print(round(time.time() - t0, 1))
show(proto, res)
