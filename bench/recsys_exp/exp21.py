"""Nonlinear text -> factor map (sklearn MLP) next to the kNN / ridge maps (new protocol, validation)."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend, unit_rows
from sklearn.neural_network import MLPRegressor
val_seed = int(sys.argv[1])
d, tr, te, cands, model = new_validation(val_seed)
vec = model.item_vectors()
warm = model._a["warm_items"]; learned = np.asarray(model._a["learned_factors"])
fit_rows = warm[np.diff(vec.indptr)[warm] > 0]
t0 = time.time()
mlp = MLPRegressor(hidden_layer_sizes=(int(sys.argv[2]) if len(sys.argv) > 2 else 256,), alpha=float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4,
                   early_stopping=True, max_iter=60, random_state=0)
ys = learned[fit_rows].std()
mlp.fit(vec[fit_rows], learned[fit_rows] / ys)
print("mlp fit", time.time() - t0, "iters", mlp.n_iter_, "val score", mlp.best_validation_score_, flush=True)
M = mlp.predict(vec[cands]) * ys
fold, K, R = cold_map_parts(model, cands)
def m(fw, parts):
    return unit_rows((1 - fw) * fold + fw * sum(w * x for w, x in parts))
V = {"base": m(.8, [(.7, K), (.3, R)]), "mlp_for_ridge": m(.8, [(.7, K), (.3, M)]),
     "mlp_half": m(.8, [(.5, K), (.5, M)]), "mlp_third": m(.8, [(.5, K), (.2, R), (.3, M)]),
     "mlp_only": m(.8, [(1.0, M)]), "mlp_raw": unit_rows(M)}
def mk(ws):
    return lambda c: blend(c, ws)
B = {"hybrid(default)": mk({"als": .85, "content": .15})}
for k in V:
    B[f"h {k}"] = mk({k: .85, "content": .15})
    B[f"{k} alone"] = mk({k: 1})
res = evaluate(tr, te, cands, with_factor_variants(model, V), B, batch=256)
show(f"new{val_seed}", res)
