import json
import os
import shutil

import numpy as np
import pytest
import scipy.sparse as sp

import recommender
from recommender.collaborative import Bm25
from recommender.datasets import split_known, split_new
from recommender.evaluation import evaluate_split
from recommender.model import member_key

from .conftest import make_communities


def test_score_shape_and_cold_items(communities, fast_params):
    ui, feats = communities
    ui = ui.tolil()
    ui[:, 5] = 0  # item 5 (topic A) becomes cold
    ui = ui.tocsr()
    ui.eliminate_zeros()
    model = recommender.train(ui, feats, fast_params)
    items = np.arange(ui.shape[1])
    s = model.score(ui[:3], items)
    assert s.shape == (3, ui.shape[1]) and np.isfinite(s).all()
    comps = model.component_scores(ui[:3], items)
    assert set(comps) >= {"als", "content", "popularity"}
    # the cold topic-A item has a mapped factor and scores higher for topic-A readers
    assert np.abs(model._factors_of([5])).sum() > 0
    a_users, b_users = ui[:20], ui[-20:]
    assert model.score(a_users, items)[:, 5].mean() > model.score(b_users, items)[:, 5].mean()
    als = model.component_scores(ui, [5])["als"][:, 0]
    assert als[:20].mean() > als[-20:].mean()


def test_blend_matches_score(communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, fast_params)
    items = np.arange(10, 40)
    comps = model.component_scores(ui[:4], items)
    np.testing.assert_allclose(model.blend(comps), model.score(ui[:4], items))
    z = recommender.zscore(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    np.testing.assert_allclose(z[0], [-1.2247449, 0, 1.2247449], rtol=1e-6)
    assert (z[1] == 0).all()


def test_unseen_user_and_fewer_columns(communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, fast_params)
    new_user = sp.csr_matrix(([1.0, 1.0], ([0, 0], [1, 2])), shape=(1, 10))  # topic A
    s = model.score(new_user, np.arange(ui.shape[1]))[0]
    assert s[:28].mean() > s[30:56].mean()
    empty = sp.csr_matrix((1, ui.shape[1]))
    assert np.isfinite(model.score(empty, np.arange(5))).all()


def test_bm25_matches_implicit(communities):
    from implicit.nearest_neighbours import bm25_weight

    ui, _ = communities
    ours = Bm25.fit(ui, 100, 0.8).transform(ui).toarray()
    theirs = bm25_weight(ui, K1=100, B=0.8).toarray()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_hybrid_beats_popularity_on_communities(fast_params):
    ui, feats = make_communities(n_users=120, n_items=80, seed=4)
    tr, te = split_known(ui, 0.25, seed=0)
    res = evaluate_split(tr, te, feats, None, (10,), fast_params, seed=0)
    assert res["hybrid"]["nDCG@10"].mean() > 2 * res["popularity"]["nDCG@10"].mean()
    tr, te, held = split_new(ui, 0.25, seed=0)
    res = evaluate_split(tr, te, feats, held, (10,), fast_params, seed=0)
    assert res["hybrid"]["nDCG@10"].mean() > 1.5 * res["popularity"]["nDCG@10"].mean()
    assert res["content"]["nDCG@10"].mean() > 1.5 * res["random"]["nDCG@10"].mean()


def test_deterministic_for_fixed_random_state(communities, fast_params):
    ui, feats = communities
    items = np.arange(ui.shape[1])
    a = recommender.train(ui, feats, fast_params).score(ui[:10], items)
    b = recommender.train(ui, feats, fast_params).score(ui[:10], items)
    np.testing.assert_array_equal(a, b)


def test_save_load_round_trip(tmp_path, communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, fast_params)
    path = str(tmp_path / "model")
    model.save(path)
    loaded = recommender.load(path)
    items = np.arange(ui.shape[1])
    np.testing.assert_allclose(loaded.score(ui[:7], items), model.score(ui[:7], items))
    meta = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert meta["format_version"] == recommender.FORMAT_VERSION
    assert isinstance(np.load(os.path.join(path, "item_factors.npy"), mmap_mode="r"), np.memmap)
    # saving again replaces atomically and leaves no temp dirs behind
    model.save(path)
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_a_model_loads_from_bytes_already_read_without_mapping_its_files(
        tmp_path, communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, fast_params)
    path = tmp_path / "model"
    model.save(str(path))
    files = {p.name: p.read_bytes() for p in path.iterdir()}
    shutil.rmtree(path)  # nothing on disk is read
    loaded = recommender.load(str(path), files=files)
    items = np.arange(ui.shape[1])
    np.testing.assert_allclose(loaded.score(ui[:7], items), model.score(ui[:7], items))
    factors = loaded.arrays["item_factors"]
    assert not isinstance(factors, np.memmap) and not factors.flags.writeable
    truncated = {**files, "yty.npy": files["yty.npy"][:-4]}
    with pytest.raises(recommender.ArtifactError, match="yty.npy"):
        recommender.load(str(path), files=truncated)


def test_ensemble_als_score_is_the_sum_of_its_members(communities, fast_params):
    ui, feats = communities
    warm = np.arange(ui.shape[1])  # every item has saves: no text map involved
    pair = recommender.train(ui, feats, {**fast_params, "ensemble": 2})
    one = [recommender.train(ui, feats, {**fast_params, "ensemble": 1,
                                         "random_state": fast_params["random_state"] + m})
           for m in range(2)]
    expected = sum(m.component_scores(ui[:10], warm)["als"] for m in one)
    np.testing.assert_allclose(pair.component_scores(ui[:10], warm)["als"], expected,
                               rtol=1e-4, atol=1e-5)
    assert not np.allclose(one[0].component_scores(ui[:10], warm)["als"],
                           one[1].component_scores(ui[:10], warm)["als"])


def test_single_member_artifact_loads(tmp_path, communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, {**fast_params, "ensemble": 1})
    model.save(str(tmp_path / "m"))
    assert not [f for f in os.listdir(tmp_path / "m") if ".m1." in f]
    loaded = recommender.load(str(tmp_path / "m"))
    items = np.arange(ui.shape[1])
    assert loaded.members == 1
    np.testing.assert_allclose(loaded.score(ui[:3], items), model.score(ui[:3], items))


def test_without_content(communities, fast_params, tmp_path):
    ui, _ = communities
    model = recommender.train(ui, None, fast_params)
    comps = model.component_scores(ui[:2], np.arange(ui.shape[1]))
    assert "content" not in comps
    assert np.isfinite(model.score(ui[:2], np.arange(ui.shape[1]))).all()
    model.save(str(tmp_path / "m"))
    recommender.load(str(tmp_path / "m"))


def test_add_items_scores_new_items(communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, fast_params)
    new = feats[[3, 40]]  # a topic-A and a topic-B text
    ids = model.add_items(new)
    assert ids.tolist() == [60, 61]
    s = model.score(ui[:20], ids)  # topic-A readers
    assert (s[:, 0] > s[:, 1]).mean() > 0.8
    assert model.score(ui[:2], np.arange(62)).shape == (2, 62)


def test_candidate_factors_are_reused_only_while_valid(communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, fast_params)
    items = np.arange(ui.shape[1])
    first = model.component_scores(ui[:5], items)["als"]
    ids = model.add_items(feats[[3]])
    np.testing.assert_allclose(model.component_scores(ui[:5], items)["als"], first, rtol=1e-6)
    both = np.concatenate([items, ids])
    fresh = model._factors_of(both)
    np.testing.assert_array_equal(model._candidate_factors(both), fresh)
    assert model.component_scores(ui[:5], both)["als"].shape == (5, len(both))
    np.testing.assert_allclose(model._candidate_factors(both, unit=True),
                               recommender.model.unit_rows(fresh), rtol=1e-6)
    # the unit rows follow the candidates too: the added item is its own nearest neighbour
    reader = sp.csr_matrix(([1.0], ([0], [ids[0]])), shape=(1, model.n_items))
    assert model.nearest_scores(reader, both)[0, -1] == pytest.approx(1.0, abs=1e-5)
    assert model.nearest_scores(reader, items).shape == (1, len(items))


def _saved(tmp_path, communities, fast_params):
    ui, feats = communities
    path = tmp_path / "model"
    recommender.train(ui, feats, fast_params).save(str(path))
    return path


def test_load_refuses_truncated_npy(tmp_path, communities, fast_params):
    path = _saved(tmp_path, communities, fast_params)
    f = path / "item_factors.npy"
    f.write_bytes(f.read_bytes()[:-40])
    with pytest.raises(recommender.ArtifactError):
        recommender.load(str(path))


def test_load_refuses_nan_factors(tmp_path, communities, fast_params):
    path = _saved(tmp_path, communities, fast_params)
    arr = np.load(path / "item_factors.npy")
    arr[0, 0] = np.nan
    np.save(path / "item_factors.npy", arr)
    with pytest.raises(recommender.ArtifactError, match="NaN"):
        recommender.load(str(path))


@pytest.mark.parametrize("victim", ["metadata.json", "yty.npy", "item_factors.m1.npy"])
def test_load_refuses_missing_files(tmp_path, communities, fast_params, victim):
    path = _saved(tmp_path, communities, fast_params)
    (path / victim).unlink()
    with pytest.raises(recommender.ArtifactError):
        recommender.load(str(path))


def test_load_refuses_garbled_metadata(tmp_path, communities, fast_params):
    path = _saved(tmp_path, communities, fast_params)
    (path / "metadata.json").write_text('{"format": "paperfeed-hybrid", "format_ver')
    with pytest.raises(recommender.ArtifactError):
        recommender.load(str(path))


def test_nan_training_input_raises_model_fit_error(communities, fast_params):
    ui, feats = communities
    bad = ui.copy()
    bad.data[0] = np.nan
    with pytest.raises(recommender.ModelFitError):
        recommender.train(bad, feats, fast_params)
    bad_feats = feats.copy()
    bad_feats.data[0] = np.inf
    with pytest.raises(recommender.ModelFitError):
        recommender.train(ui, bad_feats, fast_params)


def test_text_mass_is_relative_to_the_saves(communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, {**fast_params, "text_mass": 2.0})
    bm = Bm25.fit(ui, model.params["bm25_k1"], model.params["bm25_b"]).transform(ui)
    tfidf = model.item_vectors()
    expected = 2.0 * bm.data.sum() / tfidf.data.sum()
    assert model.params["text_weight"] == pytest.approx(expected, rel=1e-4)
    assert model.arrays["word_factors"].shape == (feats.shape[1], model.factors)
    off = recommender.train(ui, feats, {**fast_params, "text_mass": 0.0})
    assert off.arrays["word_factors"].shape[0] == 0


@pytest.mark.parametrize("fold_map_weight", [0.0, 0.5])
def test_fold_map_weight_cold_and_added_items(communities, fast_params, fold_map_weight,
                                              tmp_path):
    ui, feats = communities
    ui = ui.tolil()
    ui[:, 5] = 0  # topic-A item becomes cold
    ui = ui.tocsr()
    ui.eliminate_zeros()
    params = {**fast_params, "text_mass": 2.0, "fold_map_weight": fold_map_weight}
    model = recommender.train(ui, feats, params)
    assert np.abs(model._factors_of([5])).sum() > 0
    als = model.component_scores(ui, [5])["als"][:, 0]
    assert als[:40].mean() > als[40:].mean()
    ids = model.add_items(feats[[3, 40]])  # a topic-A and a topic-B paper, both new
    s = model.component_scores(ui[:20], ids)["als"]  # topic-A readers
    assert np.isfinite(s).all() and (s[:, 0] > s[:, 1]).mean() > 0.8
    model.save(str(tmp_path / "m"))
    again = recommender.load(str(tmp_path / "m"))
    items = np.arange(ui.shape[1])
    np.testing.assert_allclose(again.score(ui[:3], items), model.score(ui[:3], items),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fold_map_weight", [0.0, 0.8])
def test_items_without_readers_and_added_items_have_one_length(communities, fast_params,
                                                            fold_map_weight, tmp_path):
    ui, feats = communities
    ui = ui.tolil()
    ui[:, 5] = 0  # topic-A item becomes cold
    ui = ui.tocsr()
    ui.eliminate_zeros()
    params = {**fast_params, "text_mass": 2.0, "fold_map_weight": fold_map_weight,
              "map_knn_weight": 0.7}
    model = recommender.train(ui, feats, params)
    ids = model.add_items(feats[[3, 40]])  # a topic-A and a topic-B paper, both new
    assert model.members == 2
    for m in range(model.members):  # each ensemble member's own calibrated length
        scale = float(model.arrays[member_key("map_scale", m)][0])
        assert scale > 0
        norms = np.linalg.norm(model._factors_of(np.concatenate([[5], ids]), m), axis=1)
        np.testing.assert_allclose(norms, scale, rtol=1e-4)
    als = model.component_scores(ui, [5])["als"][:, 0]
    assert als[:40].mean() > als[40:].mean()
    s = model.component_scores(ui[:20], ids)["als"]  # topic-A readers
    assert np.isfinite(s).all() and (s[:, 0] > s[:, 1]).mean() > 0.8
    model.save(str(tmp_path / "m"))
    again = recommender.load(str(tmp_path / "m"))
    items = np.arange(ui.shape[1])
    np.testing.assert_allclose(again.score(ui[:3], items), model.score(ui[:3], items),
                               rtol=1e-5, atol=1e-6)


def _brute_force_nearest(model, rows, items):
    """Max cosine of each candidate's factors with each of the user's items' factors."""
    unit = recommender.model.unit_rows
    candidates = unit(model._factors_of(items))
    out = np.zeros((rows.shape[0], len(items)))
    for j in range(rows.shape[0]):
        if rows[j].nnz:
            out[j] = (unit(model._factors_of(rows[j].indices)) @ candidates.T).max(axis=0)
    return out


def test_nearest_is_the_highest_cosine_to_the_users_items(communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, fast_params)
    assert model.weights["nearest"] == recommender.DEFAULT_PARAMS["weights"]["nearest"] > 0
    rows = sp.vstack([ui[:6], sp.csr_matrix((1, ui.shape[1])), ui[-3:]], format="csr")
    items = np.arange(5, 50)
    expected = _brute_force_nearest(model, rows, items)
    np.testing.assert_allclose(model.nearest_scores(rows, items), expected, atol=1e-5)
    # users are taken in chunks of items; a chunk smaller than one user's items still works
    np.testing.assert_allclose(model.nearest_scores(rows, items, chunk_rows=3), expected,
                               atol=1e-5)
    assert (model.nearest_scores(rows, items)[6] == 0).all()  # the user without items
    comps = model.component_scores(rows, items)
    np.testing.assert_allclose(comps["nearest"], expected, atol=1e-5)
    np.testing.assert_allclose(model.score(rows, items), model.blend(comps))
    # a saved item is its own nearest neighbour
    assert model.nearest_scores(ui[:1], ui[0].indices) == pytest.approx(1.0, abs=1e-5)


def test_nearest_keeps_each_interest_of_a_two_topic_reader(communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, fast_params)
    # six topic-A saves and one topic-B save: the B item's neighbours stay as near as it
    reader = sp.csr_matrix((np.ones(7), ([0] * 7, [0, 1, 2, 3, 4, 6, 40])), shape=(1, 60))
    b_items = np.arange(30, 58)
    near = model.nearest_scores(reader, b_items)[0]
    assert near[b_items == 40] == pytest.approx(1.0, abs=1e-5)
    only_a = sp.csr_matrix((np.ones(6), ([0] * 6, [0, 1, 2, 3, 4, 6])), shape=(1, 60))
    assert near.mean() > model.nearest_scores(only_a, b_items)[0].mean() + 0.2


def test_nearest_compares_the_strongest_items_only(communities, fast_params):
    ui, feats = communities
    model = recommender.train(ui, feats, {**fast_params, "nearest_items": 2})
    reader = sp.csr_matrix(([5.0, 4.0, 1.0, 4.0], ([0] * 4, [1, 2, 40, 3])), shape=(1, 60))
    items = np.arange(60)
    # weights 5, 4, 4, 1: items 1 and (of the tie, the later column) 3
    expected = _brute_force_nearest(model, sp.csr_matrix(
        ([1.0, 1.0], ([0, 0], [1, 3])), shape=(1, 60)), items)
    np.testing.assert_allclose(model.nearest_scores(reader, items), expected, atol=1e-5)


def test_models_without_a_nearest_weight_skip_it(communities, fast_params, tmp_path):
    ui, feats = communities
    model = recommender.train(ui, feats, {**fast_params, "weights": {"nearest": 0.0}})
    items = np.arange(60)
    assert "nearest" not in model.component_scores(ui[:2], items)
    assert "nearest" in model.component_scores(ui[:2], items, nearest=True)
    assert "content" in model.component_scores(ui[:2], items)
    assert "content" not in model.component_scores(ui[:2], items, content=False)
    # an artifact written before the component existed has no weight for it
    model.params["weights"].pop("nearest")
    model.save(str(tmp_path / "old"))
    old = recommender.load(str(tmp_path / "old"))
    assert "nearest" not in old.component_scores(ui[:2], items)
    np.testing.assert_allclose(old.score(ui[:2], items), model.score(ui[:2], items))


def test_scale_cold_items_scales_unread_and_added_items_only(communities, fast_params):
    ui, feats = communities
    ui = ui.tolil()
    ui[:, [3, 40]] = 0  # two items nobody read
    ui = ui.tocsr()
    model = recommender.train(ui, feats, fast_params)
    added = model.add_items(feats[[5]])
    items = np.array([3, 40, 7, 41, *added])
    before = model.component_scores(ui[:6], items)["als"]
    model.scale_cold_items(0.5)
    after = model.component_scores(ui[:6], items)["als"]
    np.testing.assert_allclose(after[:, [0, 1, 4]], 0.5 * before[:, [0, 1, 4]], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(after[:, [2, 3]], before[:, [2, 3]], rtol=1e-5)
    np.testing.assert_array_equal(model.readers(items) == 0, [True, True, False, False, True])
    assert model.params["cold_scale"] == 0.5
