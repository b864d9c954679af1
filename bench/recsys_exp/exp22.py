"""Cold map without the ridge part (kNN + fold-in only): does the ridge map earn its training time?"""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import unit_rows
from recommender.collaborative import solve_users
from recommender.content import knn_map
val_seed = int(sys.argv[1])
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)["new"]
model = train(tr, d.item_features, {})
a = model._a; p = model.params
vec = model.item_vectors(); cands = np.asarray(cands)
warm = a["warm_items"]; learned = np.asarray(a["learned_factors"])
vc = vec[cands]
words = np.asarray(a["word_factors"])
tw = float(p["text_weight"]) * float(p["alpha"])
fold = solve_users(sp.csr_matrix(vc) * tw, lambda i: words[i], a["xtx"], float(p["regularization"]))
K = knn_map(vc, vec[warm], learned[warm], 20)
R = np.asarray(vc @ a["ridge_coef"])
def m(fw, parts):
    return unit_rows((1 - fw) * fold + fw * sum(w * x for w, x in parts))
V = {"base": m(.8, [(.7, K), (.3, R)]), "knn_only_.8": m(.8, [(1.0, K)]),
     "knn_only_.7": m(.7, [(1.0, K)]), "knn_only_.9": m(.9, [(1.0, K)])}
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    for k, f in V.items():
        c[k] = uf @ f.T
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid(default)": mk({"als": .85, "content": .15})}
for k in V:
    B[f"h {k}"] = mk({k: .85, "content": .15})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"new{val_seed}", res)
