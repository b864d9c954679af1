import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
import cProfile, pstats
d, splits = get_data()
tr, te, cands = splits["new"]
cProfile.run('train(tr, d.item_features, {"random_state": 0})', '/tmp/prof.out')
pstats.Stats('/tmp/prof.out').sort_stats('cumulative').print_stats(18)
