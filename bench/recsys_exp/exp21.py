"""Nonlinear text -> factor map (sklearn MLP) next to the kNN / ridge maps (new protocol, validation)."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import unit_rows
from recommender.collaborative import solve_users
from recommender.content import knn_map
from sklearn.neural_network import MLPRegressor
val_seed = int(sys.argv[1])
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)["new"]
model = train(tr, d.item_features, {})
a = model._a; p = model.params
vec = model.item_vectors(); cands = np.asarray(cands)
warm = a["warm_items"]; learned = np.asarray(a["learned_factors"])
has = np.diff(vec.indptr)[warm] > 0; fit_rows = warm[has]
t0 = time.time()
mlp = MLPRegressor(hidden_layer_sizes=(int(sys.argv[2]) if len(sys.argv) > 2 else 256,), alpha=float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4,
                   early_stopping=True, max_iter=60, random_state=0)
ys = learned[fit_rows].std()
mlp.fit(vec[fit_rows], learned[fit_rows] / ys)
print("mlp fit", time.time() - t0, "iters", mlp.n_iter_, "val score", mlp.best_validation_score_, flush=True)
vc = vec[cands]
M = mlp.predict(vc) * ys
words = np.asarray(a["word_factors"])
tw = float(p["text_weight"]) * float(p["alpha"])
fold = solve_users(sp.csr_matrix(vc) * tw, lambda i: words[i], a["xtx"], float(p["regularization"]))
K = knn_map(vc, vec[warm], learned[warm], 20)
R = np.asarray(vc @ a["ridge_coef"])
def m(fw, parts):
    return unit_rows((1 - fw) * fold + fw * sum(w * x for w, x in parts))
V = {"base": m(.8, [(.7, K), (.3, R)]), "mlp_for_ridge": m(.8, [(.7, K), (.3, M)]),
     "mlp_half": m(.8, [(.5, K), (.5, M)]), "mlp_third": m(.8, [(.5, K), (.2, R), (.3, M)]),
     "mlp_only": m(.8, [(1.0, M)]), "mlp_raw": unit_rows(M)}
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
    B[f"{k} alone"] = mk({k: 1})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"new{val_seed}", res)
