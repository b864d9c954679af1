"""User-vector variants for scoring cold items: reg/alpha of the solve, solve on text-mapped factors."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.collaborative import solve_users
from recommender.model import load

proto = sys.argv[1]
d, splits = get_data()
tr, te, cands = splits[proto]
path = f"/tmp/m_{proto}_val"
t0 = time.time()
if os.path.isdir(path):
    model = load(path, mmap=False)
else:
    model = train(tr, d.item_features, {"random_state": 0})
    model.save(path)
print("model", round(time.time() - t0, 1), flush=True)
a = model._a
p = model.params
vec = model.item_vectors()
warm = a["warm_items"]
mp = f"/tmp/mapped_{proto}.npy"
if os.path.exists(mp):
    M = np.load(mp)
else:
    M = np.array(a["item_factors"])
    M[warm] = model._map_factors(vec[warm])
    np.save(mp, M)
print("mapped", round(time.time() - t0, 1), flush=True)
L = np.asarray(a["item_factors"])
mtm = M.T.astype(np.float64) @ M
reg = float(p["regularization"])


def conf_of(rows, am=1.0):
    c = model.bm25.transform(rows)
    c.data *= p["alpha"] * am
    return c


def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    F = L[cand]
    for rm in (0.3, 3.0, 10.0):
        c[f"r{rm}"] = solve_users(conf_of(rows), lambda i: L[i], a["yty"], reg * rm) @ F.T
    for am in (0.5, 2.0):
        c[f"a{am}"] = solve_users(conf_of(rows, am), lambda i: L[i], a["yty"], reg) @ F.T
    for rm in (1.0, 10.0):
        c[f"m{rm}"] = solve_users(conf_of(rows), lambda i: M[i], mtm, reg * rm) @ F.T
    return c


def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())


B = {"hybrid": mk({"als": .8, "content": .2})}
for k in ("r0.3", "r3.0", "r10.0", "a0.5", "a2.0", "m1.0", "m10.0"):
    B[k] = mk({k: 1})
    B[f"h {k}"] = mk({k: .8, "content": .2})
    B[f"h7 {k}"] = mk({k: .7, "content": .3})
for k in ("m1.0", "m10.0"):
    for g in (0.3, 0.5):
        B[f"h mix{g} {k}"] = mk({"als": .8 * (1 - g), k: .8 * g, "content": .2})
res = evaluate(tr, te, cands, comp_fn, B, batch=256 if proto == "new" else 96)
print(round(time.time() - t0, 1))
show(proto, res)
