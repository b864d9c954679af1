"""Cheaper ensembles: two fits of fewer factors or iterations vs one default fit (either
protocol); members are trained by the model itself (``ensemble`` 2), scores summed."""
import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
variants = json.loads(sys.argv[3])  # name -> params
d, tr, te, cands = validation_split(protocol, val_seed)
base = timed_train(tr, d, {"ensemble": 1}, "base")
models = {name: timed_train(tr, d, params, name) for name, params in variants.items()}
comp_fn = with_als_of(base, models)
B = {"base .85": lambda c: blend(c, {"als": .85, "content": .15})}
for name in variants:
    B[name + " .85"] = (lambda n: lambda c: blend(c, {n: .85, "content": .15}))(name)
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, comp_fn, B, batch=256))
