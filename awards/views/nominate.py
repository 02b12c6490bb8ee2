"""The nominator's journey: start, fill with drafts, upload, review, submit, edit, withdraw."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("nominate", __name__, url_prefix="/nominations")
