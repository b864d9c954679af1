"""``GET /``: a short page saying what this server is and where to go next."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, render_template, request

blp = Blueprint("home", __name__)


def package_version() -> str:
    """The installed paperfeed version (``"unknown"`` when run from a tree that is not installed)."""
    try:
        return version("paperfeed")
    except PackageNotFoundError:
        return "unknown"


@blp.get("/")
def home() -> str:
    """Name, version, links to the API docs and health checks, how to install the extension."""
    return render_template("home.html", version=package_version(), server=request.host_url.rstrip("/"))
