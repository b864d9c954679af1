import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
proto = sys.argv[1]
d, splits = get_data()
tr, te, cands = splits[proto]
t0 = time.time()
model = train(tr, d.item_features, {"random_state": 0})
print("train", time.time() - t0, flush=True)
vec = model.item_vectors()
# BM25 text vectors
cnt = sp.csr_matrix(d.item_features, dtype=np.float32)
def bm25_text(k1, b):
    x = cnt.copy()
    dl = np.asarray(x.sum(1)).ravel(); avg = dl[dl > 0].mean()
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    x.data = x.data * (k1 + 1) / (x.data + k1 * (1 - b + b * dl[rows] / avg))
    df = np.bincount(x.indices, minlength=x.shape[1]); n = (dl > 0).sum()
    idf = np.log((n - df + 0.5) / (df + 0.5) + 1)
    return normalize(x @ sp.diags(idf.astype(np.float32))).tocsr().astype(np.float32)
vb = bm25_text(1.2, 0.75)
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    for nm, V in (("t", vec), ("b", vb)):
        lens = np.diff(rows.indptr)
        S = (V[rows.indices] @ V[cand].T).toarray()
        S = np.maximum(S, 0)
        starts = rows.indptr[:-1]
        ok = lens > 0
        for p in (1, 2, 3):
            out = np.zeros((rows.shape[0], len(cand)))
            if S.shape[0]:
                out[ok] = np.add.reduceat(S ** p, starts[ok], axis=0)
            c[f"knn{nm}{p}"] = out
        if nm == "b":
            prof = normalize(rows @ V)
            c["contb"] = (prof @ V[cand].T).toarray()
    return c
B = {}
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B["als"] = mk({"als": 1}); B["content"] = mk({"content": 1}); B["hybrid"] = mk({"als": .6, "content": .4})
B["contb"] = mk({"contb": 1})
for nm in "tb":
    for p in (1, 2, 3):
        B[f"knn{nm}{p}"] = mk({f"knn{nm}{p}": 1})
        for a in (0.4, 0.5, 0.6):
            B[f"als{a}+knn{nm}{p}"] = mk({"als": a, f"knn{nm}{p}": 1 - a})
        B[f"als.5+cont.25+knn{nm}{p}.25"] = mk({"als": .5, "content": .25, f"knn{nm}{p}": .25})
for a in (0.4, 0.5, 0.6):
    B[f"als{a}+contb"] = mk({"als": a, "contb": 1 - a})
t0 = time.time()
res = evaluate(tr, te, cands, comp_fn, B, batch=256 if proto == "new" else 48)
print("eval", time.time() - t0)
show(proto, res)
