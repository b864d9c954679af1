import json

import numpy as np
import pytest
from click.testing import CliRunner

from backend.cli import eval_ as eval_command

from .conftest import make_communities

pytestmark = pytest.mark.slow  # each trains several models


def _write(tmp_path, with_text=True):
    ui, feats = make_communities(n_users=60, n_items=50, seed=7)
    with open(tmp_path / "users.dat", "w") as fh:
        for u in range(ui.shape[0]):
            items = ui.indices[ui.indptr[u]:ui.indptr[u + 1]]
            fh.write(" ".join(map(str, [len(items), *items])) + "\n")
    if with_text:
        with open(tmp_path / "mult.dat", "w") as fh:
            for i in range(feats.shape[0] - 5):  # the last 5 items have no text
                row = feats[i]
                toks = [f"{w}:{int(c)}" for w, c in zip(row.indices, row.data, strict=True)]
                fh.write(" ".join([str(len(toks)), *toks]) + "\n")


def test_eval_command_writes_json_report_and_markdown(tmp_path, monkeypatch):
    monkeypatch.setattr("recommender.model.DEFAULT_PARAMS",
                        {**__import__("recommender").DEFAULT_PARAMS, "factors": 8,
                         "iterations": 5, "knn_k": 5})
    monkeypatch.setattr("recommender.progress.INTERVAL", 0.0)
    _write(tmp_path)
    md = tmp_path / "doc.md"
    md.write_text("# Doc\n\nintro\n")
    out = tmp_path / "r.json"
    res = CliRunner().invoke(eval_command, [
        "--data", str(tmp_path), "--protocol", "both", "--seeds", "2", "--k", "5,10",
        "--json", str(out), "--report", str(tmp_path / "rep"), "--markdown", str(md)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["seeds"] == [0, 1]
    assert list(data["protocols"]) == ["known", "new", "served"]
    for proto in ("known", "new"):
        p = data["protocols"][proto]
        assert p["users"] > 0
        assert set(p["models"]) == {"random", "popularity", "als", "content", "hybrid"}
        assert set(p["models"]["hybrid"]) == {"nDCG@10", "P@10", "R@5", "R@10"}
        assert np.isfinite(p["models"]["hybrid"]["R@5"]["std"])
    served = data["protocols"]["served"]
    assert set(served["models"]) == {"random", "untrained", "als", "content", "nearest", "readers",
                                     "trending", "hybrid"}
    assert set(served["models"]["hybrid"]) == {"nDCG@10", "R@50"}
    assert [c["seed"] for c in served["choices"]] == [0, 1]
    assert all(max(c["blend"].values()) == 1.0 for c in served["choices"])
    # progress lines with an ETA (not a terminal), one per update at a 0 s interval
    assert "eval:  50% 3/6 [" in res.stderr and "eval: 100% 6/6 [" in res.stderr
    assert (tmp_path / "rep" / "index.html").exists()
    assert (tmp_path / "rep" / "recall_new.png").exists()
    text = md.read_text()
    assert text.startswith("# Doc") and "| hybrid |" in text
    CliRunner().invoke(eval_command, ["--data", str(tmp_path), "--protocol", "known",
                                      "--seeds", "1", "--markdown", str(md)])
    assert md.read_text().count("BEGIN RESULTS") == 1


def test_eval_without_mult(tmp_path):
    _write(tmp_path, with_text=False)
    res = CliRunner().invoke(eval_command, ["--data", str(tmp_path), "--protocol", "known",
                                            "--seeds", "1"])
    assert res.exit_code == 0, res.output
    assert "| known | hybrid |" in res.output

