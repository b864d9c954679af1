"""Helpers of recommender.training that read the store and evaluate, without Redis."""

import os
import threading

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import training


class FakeStore:
    """The two reads ``read_training_data`` makes for interactions, from dicts."""

    def __init__(self, weights: dict[str, dict[str, str]], registered: dict[str, str]) -> None:
        self.weights = weights
        self.registered = registered

    def iter_interaction_weights(self, batch: int = 2):
        users = list(self.weights)
        for start in range(0, len(users), batch):
            yield [(user, self.weights[user]) for user in users[start:start + batch]]

    def registration_times(self, user_ids):
        return [self.registered.get(user, "") for user in user_ids]


def test_user_matrix_rows_in_registration_then_id_order_without_unknown_papers_or_bad_weights():
    store = FakeStore(
        {"u1": {"p2": "3", "p0": "1"}, "u2": {"gone": "5"}, "u3": {}, "u4": {"p1": "-2", "p2": "nan", "p0": "8"},
         "u5": {"gone": "1", "p1": "2"}, "u0": {"p1": "1"}},
        {"u1": "2024-03-01", "u2": "2024-01-01", "u4": "2024-02-01", "u5": "2023-12-31", "u0": "2024-02-01"})
    index = {"p0": 0, "p1": 1, "p2": 2}
    matrix = training._user_matrix(training._read_ahead(training._weights_and_registration(store)), index)
    expected = np.array([[0, 2, 0], [0, 1, 0], [8, 0, 0], [1, 0, 3]], dtype=np.float32)  # u5, u0, u4, u1
    assert matrix.has_sorted_indices and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix.toarray(), expected)


def test_read_ahead_yields_everything_in_order_reading_one_ahead_in_another_thread():
    threads = []

    def source():
        for i in range(5):
            threads.append(threading.current_thread())
            yield i

    assert list(training._read_ahead(source())) == [0, 1, 2, 3, 4]
    assert threading.current_thread() not in threads
    assert list(training._read_ahead(iter([]))) == []


def test_read_ahead_passes_errors_on():
    def source():
        yield 1
        raise RuntimeError("redis went away")

    with pytest.raises(RuntimeError, match="redis went away"):
        list(training._read_ahead(source()))


@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_evaluate_is_the_same_in_threads(monkeypatch, num_threads):
    monkeypatch.setattr(training, "EVAL_BATCH", 7)
    rng = np.random.default_rng(0)
    user_items = sp.random(60, 80, density=0.2, random_state=rng, format="csr", dtype=np.float32)
    train, hidden = training.holdout(user_items, seed=1)
    scores = rng.random((60, 80))

    def scorer(rows):
        return scores[:rows.shape[0]] * (1 + rows.sum())

    expected = training.evaluate(scorer, train, hidden, 1)
    assert training.evaluate(scorer, train, hidden, num_threads) == expected
    assert expected["users"] == len(hidden) > 40


@pytest.mark.slow
def test_a_large_catalogue_is_featurised_in_a_child_process_with_the_same_result(monkeypatch):
    texts = [f"paper {i} about topic{i % 7} and words{i % 3} with {'extra ' * (i % 4)}" for i in range(200)]
    with training._featurizing(texts, 1000) as featurized:
        expected_featurizer, expected = featurized()
    monkeypatch.setattr(training, "FEATURIZE_IN_CHILD_PAPERS", 100)
    parent = os.getpid()
    monkeypatch.setattr(training.TextFeaturizer, "fit_transform", classmethod(_fail_in(parent)))
    with training._featurizing(texts, 1000) as featurized:
        featurizer, counts = featurized()
    assert featurizer.vocabulary == expected_featurizer.vocabulary
    assert (counts != expected).nnz == 0


def _fail_in(parent: int):
    original = training.TextFeaturizer.fit_transform.__func__

    def fit_transform(cls, texts, **kwargs):
        assert os.getpid() != parent, "featurised in the parent"
        return original(cls, texts, **kwargs)

    return fit_transform
