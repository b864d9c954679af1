"""User-solve regularisation at scoring time: the user's ALS vector solved with another lambda
than the training one (few saves per user: median 3 in the new protocol's training part).
One model (the defaults) per split; variants only re-solve the users."""
import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
lambdas = json.loads(sys.argv[3]) if len(sys.argv) > 3 else [0.3, 1, 3, 10, 30]
d, tr, te, cands = validation_split(protocol, val_seed)
model = timed_train(tr, d)
train_reg = model.params["regularization"]
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    for lam in lambdas:
        model.params["regularization"] = lam
        c[f"als{lam}"] = model.user_factors(rows) @ model._candidate_factors(np.asarray(cand)).T
    model.params["regularization"] = train_reg
    return c
B = {f"lambda_user {lam}": (lambda k: lambda c: blend({"als": c[k], "content": c["content"]},
                                                    {"als": .85, "content": .15}))(f"als{lam}")
     for lam in lambdas}
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, comp_fn, B, batch=256))
