"""Cold-item factor variants, expanded content profiles and fusion rules on one trained model."""
import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.collaborative import solve_users
from recommender.content import knn_map

proto = sys.argv[1]
cfg = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
d, splits = get_data()
tr, te, cands = splits[proto]
t0 = time.time()
model = train(tr, d.item_features, {"random_state": 0, **cfg})
print("train", round(time.time() - t0, 1), flush=True)
a = model._a
p = model.params
vec = model.item_vectors()
warm = a["warm_items"]
cold = np.setdiff1d(np.arange(model.n_train_items), warm)
words = np.asarray(a["word_factors"])
tw = float(p["text_weight"]) * float(p["alpha"])
reg = float(p["regularization"])


def fold(v, conf_mult=1.0, reg_mult=1.0):
    conf = sp.csr_matrix(v, dtype=np.float32) * (tw * conf_mult)
    return solve_users(conf, lambda ids: words[ids], a["xtx"], reg * reg_mult)


vc = vec[cold]
F = {}
F["fold"] = fold(vc)
for cm in (0.5, 2.0, 4.0):
    F[f"fold_c{cm}"] = fold(vc, conf_mult=cm)
for rm in (0.1, 10.0, 30.0):
    F[f"fold_r{rm}"] = fold(vc, reg_mult=rm)
F["ridge"] = vc @ a["ridge_coef"]
F["knn"] = knn_map(vc, vec[warm], np.asarray(a["learned_factors"][warm]), int(p["knn_k"]))
print("factors", round(time.time() - t0, 1), flush=True)


def unit(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def mix(fw, kw, fold_key="fold"):
    return (1 - fw) * F[fold_key] + fw * (kw * F["knn"] + (1 - kw) * F["ridge"])


V = {"base": mix(0.5, 0.5)}
for fw in (0.3, 0.7):
    V[f"m{fw}_0.5"] = mix(fw, 0.5)
for kw in (0.3, 0.7):
    V[f"m0.5_{kw}"] = mix(0.5, kw)
for k in F:
    if k.startswith("fold_"):
        V[f"m0.5_0.5_{k}"] = mix(0.5, 0.5, k)
for k in ("fold", "ridge", "knn"):
    V[k] = F[k]
pos = np.full(model.n_train_items, -1)
pos[cold] = np.arange(len(cold))
cidx = pos[np.asarray(cands)]
assert (cidx >= 0).all()
learned_warm = np.asarray(a["learned_factors"][warm])
vw = vec[warm]


def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    for k, f in V.items():
        c["als_" + k] = uf @ f[cidx].T
    prof = normalize(rows @ vec)
    sw = uf @ learned_warm.T
    for n in (20, 100):
        top = np.argpartition(-sw, n, axis=1)[:, :n]
        ex = normalize(sp.csr_matrix((np.ones(top.size, np.float32), top.ravel(),
                                      np.arange(0, top.size + 1, n)), shape=(len(uf), len(warm))) @ vw)
        for beta in (0.5, 1.0):
            pr = normalize(prof + beta * ex)
            c[f"prf{n}_{beta}"] = (pr @ vec[cand].T).toarray()
    c["nsaves"] = np.diff(rows.indptr)[:, None] * np.ones((1, len(cand)))
    return c


def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())


def rankz(x):
    r = np.argsort(np.argsort(-x, axis=1), axis=1)
    return -np.log1p(r)


def adaptive(c, lo, hi):
    n = c["nsaves"][:, :1]
    w = np.clip(lo + (hi - lo) * np.log1p(n) / np.log1p(50), min(lo, hi), max(lo, hi))
    return w * zscore(c["als"]) + (1 - w) * zscore(c["content"])


B = {"content": mk({"content": 1})}
for k in V:
    B["als_" + k] = mk({"als_" + k: 1})
    for w in (0.7, 0.8):
        B[f"h{w} als_{k}"] = mk({"als_" + k: w, "content": 1 - w})
for n in (20, 100):
    for beta in (0.5, 1.0):
        k = f"prf{n}_{beta}"
        B[k] = mk({k: 1})
        for w in (0.6, 0.7, 0.8):
            B[f"h{w} {k}"] = mk({"als_base": w, k: 1 - w})
for w in (0.6, 0.7, 0.8):
    B[f"rank{w}"] = lambda c, w=w: w * rankz(c["als"]) + (1 - w) * rankz(c["content"])
for lo, hi in ((0.6, 0.9), (0.9, 0.6), (0.7, 0.85), (0.85, 0.7)):
    B[f"adapt{lo}-{hi}"] = lambda c, lo=lo, hi=hi: adaptive(c, lo, hi)
res = evaluate(tr, te, cands, comp_fn, B, batch=256 if proto == "new" else 96)
print(json.dumps(cfg), round(time.time() - t0, 1))
show(proto, res)
