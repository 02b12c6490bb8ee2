"""Member administrators screen their category's nominations and export them."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("screening", __name__, url_prefix="/manage/categories")
