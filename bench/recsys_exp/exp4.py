import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
proto = sys.argv[1]
d, splits = get_data()
tr, te, cands = splits[proto]
model = train(tr, d.item_features, {"random_state": 0})
t0 = time.time()
def iknn(X, k, shrink=0.0, pw=1.0):
    X = sp.csr_matrix(X, dtype=np.float32)
    n = np.sqrt(np.asarray(X.multiply(X).sum(0)).ravel())
    Xt = X.T.tocsr()
    out_r, out_c, out_v = [], [], []
    for s in range(0, X.shape[1], 2048):
        S = (Xt[s:s+2048] @ X).toarray()
        S /= (n[s:s+2048, None] * n[None, :] + shrink + 1e-9)
        S[np.arange(S.shape[0]), np.arange(s, s + S.shape[0])] = 0
        kk = min(k, S.shape[1] - 1)
        idx = np.argpartition(-S, kk, axis=1)[:, :kk]
        v = np.take_along_axis(S, idx, 1)
        out_r.append(np.repeat(np.arange(s, s + S.shape[0]), kk)); out_c.append(idx.ravel()); out_v.append(v.ravel() ** pw)
    M = sp.csr_matrix((np.concatenate(out_v), (np.concatenate(out_r), np.concatenate(out_c))), shape=(X.shape[1],) * 2)
    M.eliminate_zeros()
    return M.T.tocsr()  # M[j, i] = sim of i's neighbour j -> rows @ M scores
Ms = {}
bmX = model.bm25.transform(tr)
Ms["b50"] = iknn(tr, 50); Ms["b200"] = iknn(tr, 200); Ms["bm200"] = iknn(bmX, 200); Ms["b200s"] = iknn(tr, 200, 10.0)
print("knn build", time.time() - t0, flush=True)
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    for k, M in Ms.items():
        c[k] = (rows @ M)[:, cand].toarray()
    return c
B = {}
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B["hybrid"] = mk({"als": .6, "content": .4})
for k in Ms:
    B[k] = mk({k: 1})
    for wk in (0.2, 0.3, 0.4):
        B[f"a{0.6 - wk/2:.2f} c{0.4 - wk/2:.2f} {k}{wk}"] = mk({"als": 0.6 - wk / 2, "content": 0.4 - wk / 2, k: wk})
res = evaluate(tr, te, cands, comp_fn, B, batch=128)
show(proto, res)
