"""HTML/PNG report and Markdown results section for ``paperfeed eval``."""

from __future__ import annotations

import html
import os
import re
from typing import Any

from .files import atomic_write

__all__ = ["write_report", "update_markdown", "BEGIN", "END"]

BEGIN = "<!-- BEGIN RESULTS (written by paperfeed eval --markdown; do not edit by hand) -->"
END = "<!-- END RESULTS -->"


def _recall_ks(models: dict[str, Any]) -> list[int]:
    names = next(iter(models.values())).keys()
    return sorted(int(n[2:]) for n in names if n.startswith("R@"))


def write_plots(result: dict[str, Any], out_dir: str) -> list[str]:
    """One PNG per protocol: mean recall@K per model (error bars = std over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for proto, pr in result["protocols"].items():
        ks = _recall_ks(pr["models"])
        fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=100)
        for model, metrics in pr["models"].items():
            means = [metrics[f"R@{k}"]["mean"] for k in ks]
            stds = [metrics[f"R@{k}"]["std"] for k in ks]
            ax.errorbar(ks, means, yerr=stds, marker="o", capsize=3, label=model)
        ax.set_xlabel("K")
        ax.set_ylabel("recall@K")
        ax.set_title(f"protocol {proto}: {pr['users']} users, {len(result['seeds'])} seeds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        name = f"recall_{proto}.png"
        fig.savefig(os.path.join(out_dir, name))
        plt.close(fig)
        files.append(name)
    return files


def write_report(result: dict[str, Any], out_dir: str) -> str:
    """Write ``index.html`` (results table + plots) and the PNGs into ``out_dir``.

    Returns
    -------
    str
        Path of index.html.
    """
    os.makedirs(out_dir, exist_ok=True)
    plots = write_plots(result, out_dir)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>paperfeed evaluation"
             "</title><style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
             "td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:right}"
             "td:first-child,td:nth-child(2){text-align:left}</style></head><body>",
             f"<h1>paperfeed evaluation</h1><p>data: {html.escape(str(result['data']))}; "
             f"seeds: {result['seeds']}; mean ± std over seeds of per-user means.</p>"]
    for proto, pr in result["protocols"].items():
        names = list(next(iter(pr["models"].values())).keys())
        parts.append(f"<h2>protocol {html.escape(proto)} ({pr['users']} users)</h2><table>"
                     "<tr><th>model</th>" + "".join(f"<th>{html.escape(n)}</th>" for n in names)
                     + "</tr>")
        for model, metrics in pr["models"].items():
            parts.append(f"<tr><td>{html.escape(model)}</td>" + "".join(
                f"<td>{metrics[n]['mean']:.4f} ± {metrics[n]['std']:.4f}</td>" for n in names)
                + "</tr>")
        parts.append("</table>")
        parts.append(f"<img src='recall_{html.escape(proto)}.png' alt='recall@K, {proto}'>")
    parts.append("</body></html>")
    path = os.path.join(out_dir, "index.html")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts))
    assert len(plots) == len(result["protocols"])
    return path


def results_markdown(result: dict[str, Any], plots_dir: str | None = None,
                     relative_to: str | None = None) -> str:
    """The results section: one table per protocol, runtime, plot links."""
    lines = [f"Data: `{result['data']}`; seeds {result['seeds']}; mean ± std over seeds."]
    if "seconds" in result:
        lines[0] += f" Wall time of the run: {result['seconds']:.0f} s."
    for proto, pr in result["protocols"].items():
        names = list(next(iter(pr["models"].values())).keys())
        lines += ["", f"**{proto}** ({pr['users']} users evaluated)", "",
                  "| model | " + " | ".join(names) + " |", "|---" * (1 + len(names)) + "|"]
        for model, metrics in pr["models"].items():
            lines.append(f"| {model} | " + " | ".join(
                f"{metrics[n]['mean']:.3f} ± {metrics[n]['std']:.3f}" for n in names) + " |")
        if plots_dir:
            rel = os.path.relpath(os.path.join(plots_dir, f"recall_{proto}.png"),
                                  relative_to or ".")
            lines += ["", f"![recall@K, {proto}]({rel})"]
    return "\n".join(lines)


def update_markdown(result: dict[str, Any], path: str, plots_dir: str | None = None) -> None:
    """Replace the text between :data:`BEGIN` and :data:`END` in ``path`` (append if absent)."""
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    body = results_markdown(result, plots_dir, os.path.dirname(os.path.abspath(path)))
    block = f"{BEGIN}\n{body}\n{END}"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + ("\n\n" if text else "") + block + "\n"
    with atomic_write(path) as fh:
        fh.write(text)
