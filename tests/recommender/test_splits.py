import numpy as np
import scipy.sparse as sp

from recommender.datasets import load_dataset, split_known, split_new
from recommender.evaluation import evaluate_split

from .conftest import make_communities


def test_known_split_is_disjoint_and_complete():
    ui, _ = make_communities()
    tr, te = split_known(ui, 0.2, seed=1)
    assert tr.multiply(te).nnz == 0
    assert (tr + te - ui).count_nonzero() == 0
    n_tr, n_te = np.diff(tr.indptr), np.diff(te.indptr)
    assert (n_tr >= 1).all() and (n_te >= 1).all()
    assert abs(te.nnz / ui.nnz - 0.2) < 0.05


def test_new_split_holds_out_items_with_all_saves():
    ui, _ = make_communities()
    tr, te, held = split_new(ui, 0.2, seed=2)
    assert len(held) == 12
    assert tr[:, held].nnz == 0
    assert np.isin(te.indices, held).all()
    assert (tr + te - ui).count_nonzero() == 0


def test_splits_depend_on_seed_only():
    ui, _ = make_communities()
    a, _ = split_known(ui, 0.2, seed=5)
    b, _ = split_known(ui, 0.2, seed=5)
    assert (a != b).nnz == 0


def test_known_protocol_never_recommends_training_items(fast_params):
    ui, feats = make_communities()
    tr, te = split_known(ui, 0.2, seed=0)
    res = evaluate_split(tr, te, feats, None, (5,), fast_params, seed=0)
    assert len(res["hybrid"]["P@10"]) == ui.shape[0]


def test_load_dataset_without_mult(tmp_path):
    (tmp_path / "users.dat").write_text("2 0 3\n1 1\n3 0 1 2\n")
    d = load_dataset(str(tmp_path))
    assert d.item_features is None
    assert d.user_items.shape == (3, 4)
    (tmp_path / "mult.dat").write_text("2 0:1 1:2\n1 1:1\n")  # items 2, 3 have no text
    d = load_dataset(str(tmp_path))
    assert d.item_features.shape[0] == 4
    assert d.item_features[2:].nnz == 0
    assert isinstance(d.user_items, sp.csr_matrix)


def test_validation_data_shares_nothing_with_any_seeds_test_sets():
    from recommender.evaluation import split_served
    from recommender.tune import validation_pool, validation_splits

    ui, _ = make_communities(n_users=80, n_items=120, seed=5)
    pool, items = validation_pool(ui, seeds=3)
    assert 0 < pool.nnz < ui.nnz
    for seed in range(3):
        _, known_test = split_known(ui, 0.2, seed)
        _, _, new_held = split_new(ui, 0.2, seed)
        _, served_test, served_new = split_served(ui, seed)
        assert pool.multiply(known_test).nnz == 0 and pool.multiply(served_test).nnz == 0
        assert not np.isin(items, new_held).any() and not np.isin(items, served_new).any()
    splits = validation_splits(ui, seeds=3)
    for train, val, _ in splits.values():
        assert (train + val - pool).count_nonzero() == 0
        assert np.isin(val.indices, items).all()
