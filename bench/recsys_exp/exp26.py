"""Cheaper ensembles: two fits of fewer factors or iterations vs one default fit (either
protocol); members are trained by the model itself (``ensemble`` 2), scores summed."""
import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
variants = json.loads(sys.argv[3])  # name -> params
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)[protocol]
cands = None if cands is None else np.asarray(cands)
models = {}
for name, params in {"base": {"ensemble": 1}, **variants}.items():
    t = time.time(); models[name] = train(tr, d.item_features, params)
    print(name, "fit", round(time.time() - t, 1), flush=True)
def comp_fn(rows, cand):
    c = models["base"].component_scores(rows, cand)
    for name, m in models.items():
        if name != "base":
            c[name] = m.component_scores(rows, cand)["als"]
    return c
B = {"base .85": lambda c: blend(c, {"als": .85, "content": .15})}
for name in variants:
    B[name + " .85"] = (lambda n: lambda c: blend(c, {n: .85, "content": .15}))(name)
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, comp_fn, B, batch=256))
