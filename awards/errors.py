"""Error pages: styled, honest, and never a 500 for something a user can send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, flash, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db


def keeps_input_on_csrf_failure(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a form view to be shown again, filled in, when its CSRF token has expired.

    Only views whose POST branch goes through ``form.validate_on_submit()`` may carry this:
    the form's own CSRF check fails the same way, so the view re-renders and changes nothing.
    """
    view.redisplay_on_csrf_failure = True  # type: ignore[attr-defined]
    return view


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _page(code: int, error: HTTPException | None = None):
    if _wants_json():
        name = error.name if error is not None else "Error"
        return jsonify(error=name, status=code), code
    return render_template("errors/error.html", code=code, error=error), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        view = current_app.view_functions.get(request.endpoint or "")
        flash(
            _(
                "This form had expired or did not come from this site, so nothing was saved. "
                "Check what you entered and send it again."
            ),
            "warning",
        )
        if (
            view is not None
            and getattr(view, "redisplay_on_csrf_failure", False)
            and not g.get("csrf_redisplayed")
        ):
            g.csrf_redisplayed = True
            response = current_app.make_response(view(**(request.view_args or {})))
            response.status_code = 400
            return response
        return _page(400, error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return _page(error.code, error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        # Anything not foreseen: undo the half-done change, log it, show a calm page.
        db.session.rollback()
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if current_app.testing and not current_app.config.get("TEST_ERROR_PAGE"):
            raise error  # let the test see the real traceback
        return _page(500)
