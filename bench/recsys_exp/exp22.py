"""Cold map without the ridge part (kNN + fold-in only): does the ridge map earn its training time?"""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend, unit_rows
val_seed = int(sys.argv[1])
d, tr, te, cands, model = new_validation(val_seed)
fold, K, R = cold_map_parts(model, cands)
def m(fw, parts):
    return unit_rows((1 - fw) * fold + fw * sum(w * x for w, x in parts))
V = {"base": m(.8, [(.7, K), (.3, R)]), "knn_only_.8": m(.8, [(1.0, K)]),
     "knn_only_.7": m(.7, [(1.0, K)]), "knn_only_.9": m(.9, [(1.0, K)])}
def mk(ws):
    return lambda c: blend(c, ws)
B = {"hybrid(default)": mk({"als": .85, "content": .15})}
for k in V:
    B[f"h {k}"] = mk({k: .85, "content": .15})
res = evaluate(tr, te, cands, with_factor_variants(model, V), B, batch=256)
show(f"new{val_seed}", res)
