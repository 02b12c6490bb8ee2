"""Pages anyone can see, the health check, and the language choice."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from .. import accounts, lifecycle
from ..extensions import db
from ..forms import LanguageForm
from ..models import Category, CategoryState, Edition, utcnow
from ..safety import safe_next

bp = Blueprint("public", __name__)

PUBLIC_CATEGORY_STATES = (
    CategoryState.OPEN,
    CategoryState.CLOSED,
    CategoryState.IN_REVIEW,
    CategoryState.DECIDED,
    CategoryState.PUBLISHED,
)


@bp.get("/")
def index():
    edition = db.session.execute(
        select(Edition).order_by(Edition.year.desc()).limit(1)
    ).scalar_one_or_none()
    categories = []
    if edition is not None:
        categories = list(
            db.session.execute(
                select(Category)
                .where(
                    Category.edition_id == edition.id, Category.state.in_(PUBLIC_CATEGORY_STATES)
                )
                .order_by(Category.title)
                .options(db.joinedload(Category.organisation))
            ).scalars()
        )
    return render_template("public/index.html", edition=edition, categories=categories)


@bp.get("/awards/<code>/<slug>")
def category(code: str, slug: str):
    found = db.session.execute(
        select(Category)
        .join(Edition)
        .where(Edition.code == code.upper(), Category.slug == slug)
        .options(db.joinedload(Category.organisation), db.joinedload(Category.edition))
    ).scalar_one_or_none()
    if found is None or found.state not in PUBLIC_CATEGORY_STATES:
        abort(404)  # drafts and categories awaiting approval do not exist for the public
    opens, closes = lifecycle.nomination_window(found)
    return render_template(
        "public/category.html",
        category=found,
        opens=opens,
        closes=closes,
        accepting=lifecycle.accepting_nominations(found),
        not_yet_open=utcnow() < opens,
    )


@bp.get("/about")
def about():
    return render_template("public/about.html")


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["language"] = form.language.data
        if current_user.is_authenticated:  # the profile's language would otherwise win
            user = current_user._get_current_object()
            try:
                accounts.update_profile(user, user.name, form.language.data, user.timezone)
            except accounts.AccountError:
                db.session.rollback()  # a profile that no longer validates keeps the session's
            else:
                db.session.commit()
    return redirect(safe_next(form.return_to.data) or url_for("public.index"))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.app_context_processor
def language_form():
    if not has_request_context():
        return {}  # emails rendered by commands have no page around them
    form = LanguageForm(formdata=None)
    form.return_to.data = request.full_path if request.query_string else request.path
    return {"language_form": form}
