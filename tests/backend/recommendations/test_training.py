"""Helpers of backend.recommendations.training that read the store and evaluate."""

import numpy as np

from backend.recommendations import training


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


def test_training_reads_weights_with_the_settings_it_runs_with(redis_client, redis_url):
    """A change of PAPERFEED_WEIGHT_* applies to every stored interaction at the next
    training: the store keeps the state, and the weights come from the reader's settings."""
    from datetime import UTC, datetime

    from backend.config import load_config
    from backend.store import Event, Store

    now = datetime.now(UTC)
    settings = load_config({"REDIS_URL": redis_url})
    writer = Store(redis_client, settings)
    user_id, _ = writer.create_user(now)
    writer.apply_events(user_id, [Event("e1", "open", "2412.00001", now),
                                  Event("e2", "open", "2412.00001", now),
                                  Event("e3", "save", "2412.00002", now)], now)
    index = {"2412.00001": 0, "2412.00002": 1}
    for open_weight, save_weight, expected in ((1.0, 5.0, [2, 5]), (0.5, 2.0, [1, 2])):
        reader = Store(redis_client, {**settings, "WEIGHT_OPEN": open_weight,
                                      "WEIGHT_SAVE": save_weight})
        matrix = training._user_matrix(training._weights_and_registration(reader), index)
        np.testing.assert_array_equal(matrix.toarray(), np.array([expected], dtype=np.float32))
