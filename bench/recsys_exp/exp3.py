import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
proto = sys.argv[1]
d, splits = get_data()
tr, te, cands = splits[proto]
model = train(tr, d.item_features, {"random_state": 0})
a = model._a
vec = model.item_vectors()
n_tr = model.n_train_items
warm = a["warm_items"]
cold = np.setdiff1d(np.arange(n_tr), warm)
scale = float(a["map_scale"][0])
ridgeF = np.array(a["item_factors"]); knnF = np.array(a["item_factors"])
from recommender.content import knn_map
ridgeF[cold] = scale * (vec[cold] @ a["ridge_coef"])
base = vec[warm]
for k in (20, 50):
    F = np.array(a["item_factors"]); F[cold] = scale * knn_map(vec[cold], base, np.asarray(a["learned_factors"][warm]), k)
    if k == 20: knnF = F
    else: knn50 = F
gm = np.asarray(vec[warm].mean(0)).ravel()
bm = model.bm25
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    c["ridge"] = uf @ ridgeF[cand].T
    c["knn"] = uf @ knnF[cand].T
    c["knn50"] = uf @ knn50[cand].T
    prof = normalize(bm.transform(rows) @ vec)
    c["contbm"] = (prof @ vec[cand].T).toarray()
    prof0 = normalize(rows @ vec)
    for beta in (0.3, 0.6):
        pr = prof0.toarray() - beta * gm[None] / np.linalg.norm(gm)
        c[f"cent{beta}"] = (vec[cand] @ pr.T).T
    return c
B = {}
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
for k in ("als", "content", "ridge", "knn", "knn50", "contbm", "cent0.3", "cent0.6"):
    B[k] = mk({k: 1})
B["hybrid"] = mk({"als": .6, "content": .4})
for cc in ("content", "contbm", "cent0.3", "cent0.6"):
    B[f"als.6+{cc}.4"] = mk({"als": .6, cc: .4})
for r in (0.2, 0.3, 0.4):
    B[f"ridge{r}+knn{0.6-r:.1f}+c.4"] = mk({"ridge": r, "knn": 0.6 - r, "content": .4})
    B[f"ridge{r}+knn50_{0.6-r:.1f}+c.4"] = mk({"ridge": r, "knn50": 0.6 - r, "content": .4})
res = evaluate(tr, te, cands, comp_fn, B, batch=256 if proto == "new" else 96)
show(proto, res)
