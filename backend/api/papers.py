"""GET /v1/papers/<paper_id>: one catalogue entry."""

from __future__ import annotations

from flask_smorest import Blueprint, abort

from backend.extensions import get_store
from backend.ids import normalize_paper_id
from backend.schemas import PaperSchema

blp = Blueprint("papers", __name__, url_prefix="/v1", description="Catalogue")


@blp.route("/papers/<arxiv_id:paper_id>", methods=["GET"])
@blp.response(200, PaperSchema)
@blp.alt_response(404, description="Not in the catalogue")
def get_paper(paper_id: str):
    """A paper of the catalogue (an arXiv id; a version suffix is ignored)."""
    try:
        canonical = normalize_paper_id(paper_id)
    except ValueError:
        abort(404, message="Not an arXiv id.")
    paper = get_store().paper(canonical)
    if paper is None:
        abort(404, message=f"Paper {canonical} is not in the catalogue.")
    return paper
