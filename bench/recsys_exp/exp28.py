"""Heterogeneous ensembles: the second ALS member trained with different hyper-parameters
(more diverse errors than a second seed alone?). Members' ALS scores z-averaged (the same
figures as the model's summed raw scores, see exp23), content from member 0, blend .85/.15."""
import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
variants = json.loads(sys.argv[3])  # name -> params of the second member
d, tr, te, cands = validation_split(protocol, val_seed)
base = {"ensemble": 1}
m0 = timed_train(tr, d, {**base, "random_state": 0}, "m0")
members = {name: timed_train(tr, d, {**base, "random_state": 1, **params}, name)
           for name, params in {"m1": {}, **variants}.items()}
comp_fn = with_als_of(m0, members)
def pair(name):
    return lambda c: blend({"als": zscore(c["als"]) + zscore(c[name]), "content": c["content"]},
                           {"als": .85, "content": .15})
B = {name: pair(name) for name in members}
B["m0 alone"] = lambda c: blend(c, {"als": .85, "content": .15})
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, comp_fn, B, batch=256))
