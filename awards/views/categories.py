"""Member administrators build their category: details, nomination form, rubric, approval."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("categories", __name__, url_prefix="/manage/categories")
