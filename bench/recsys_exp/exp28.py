"""Heterogeneous ensembles: the second ALS member trained with different hyper-parameters
(more diverse errors than a second seed alone?). Members' ALS scores z-averaged (the same
figures as the model's summed raw scores, see exp23), content from member 0, blend .85/.15."""
import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
variants = json.loads(sys.argv[3])  # name -> params of the second member
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)[protocol]
cands = None if cands is None else np.asarray(cands)
base = {"ensemble": 1}
members = {"m0": train(tr, d.item_features, {**base, "random_state": 0})}
for name, params in {"m1": {}, **variants}.items():
    t = time.time()
    members[name] = train(tr, d.item_features, {**base, "random_state": 1, **params})
    print(name, "fit", round(time.time() - t, 1), flush=True)
def comp_fn(rows, cand):
    c = members["m0"].component_scores(rows, cand)
    for name, m in members.items():
        if name != "m0":
            c[name] = m.component_scores(rows, cand)["als"]
    return c
def pair(name):
    return lambda c: blend({"als": zscore(c["als"]) + zscore(c[name]), "content": c["content"]},
                           {"als": .85, "content": .15})
B = {name: pair(name) for name in members if name != "m0"}
B["m0 alone"] = lambda c: blend(c, {"als": .85, "content": .15})
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, comp_fn, B, batch=256))
