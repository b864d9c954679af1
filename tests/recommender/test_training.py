"""Helpers of recommender.training that read the store and evaluate, without Redis."""

import numpy as np

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
    matrix = training._user_matrix(training._weights_and_registration(store), index)
    expected = np.array([[0, 2, 0], [0, 1, 0], [8, 0, 0], [1, 0, 3]], dtype=np.float32)  # u5, u0, u4, u1
    assert matrix.has_sorted_indices and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix.toarray(), expected)
