"""The committee reviewer's pages: assignments, scoring, bids, conflicts, languages and topics.

Everything about a nomination is answered with 404 to anyone who may not review it, so that
ids reveal nothing; what a reviewer sees of a nomination goes through ``reviews.blind_view``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import conflicts, permissions, reviews, uploads
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import Form
from ..i18n import LANGUAGES
from ..models import Attachment, BidLevel, Category, Nomination
from ..templating import local_datetime_in, reader_locale_zone, review_state_badge, url_pattern
from .helpers import (
    CATEGORY_PAGE_LOADS,
    Pager,
    category_page_or_404,
    page_number,
    require,
)

bp = Blueprint("review", __name__, url_prefix="/review")

BIDS_PER_PAGE = 50
ASSIGNED_PER_PAGE = 50


class ScoreForm(Form):
    version = HiddenField()
    comments = TextAreaField(
        _l("Comments (optional)"),
        validators=[Optional(), Length(max=reviews.MAX_COMMENTS)],
        description=_l(
            "Seen by the committee chair and the category’s administrators, never by other "
            "reviewers or the nominee."
        ),
    )
    save_draft = SubmitField(_l("Save draft"))
    submit_review = SubmitField(_l("Submit review"))


class ProfileForm(Form):
    submit = SubmitField(_l("Save your profile"))


class BidsForm(Form):
    submit = SubmitField(_l("Save your bids"))


class ConflictForm(Form):
    reason = TextAreaField(
        _l("Why you cannot judge this nomination fairly"),
        validators=[
            DataRequired(_l("Say briefly why, for example “former colleague”.")),
            Length(max=2000),
        ],
        description=_l(
            "The category’s administrators read this. The nomination then leaves your list."
        ),
    )
    submit = SubmitField(_l("Declare the conflict"))


BID_CHOICES = [
    ("", _l("No preference")),
    (BidLevel.EAGER.value, _l("Eager")),
    (BidLevel.WILLING.value, _l("Willing")),
    (BidLevel.NOT_WILLING.value, _l("Not willing")),
]


def bid_table_rows(
    rows: list[reviews.BidRow], *, blind: bool, problems: Mapping[int, str]
) -> Markup:
    """The bids page's table rows. Written here rather than as a loop in the template: a
    row of the template cost 20 µs (a page of fifty, a third of the page), this a quarter
    of that. Every text that is not a number or a bid level's own value is escaped."""
    choices = [(key, escape(str(label))) for key, label in BID_CHOICES]
    declare = escape(_("Declare a conflict"))
    # Translated once; a NUL, which no text holds, marks where each row's reference goes.
    bid_on = str(escape(_("Your bid on %(ref)s", ref="\x00")))
    conflict_url = url_pattern("review.conflict", "nomination_id")
    no_value, nul = "—", "\x00"
    parts = []
    for row in rows:
        nid, reference = int(row.nomination_id), escape(row.reference)
        problem = problems.get(nid)
        described = f' aria-describedby="bid-{nid}-error"' if problem else ""
        current = row.level.value if row.level else ""
        parts.append(f"<tr><td><code>{reference}</code></td>")
        if not blind:
            organisation = (
                f'<br><span class="text-body-secondary">{escape(row.nominee_organisation)}</span>'
                if row.nominee_organisation
                else ""
            )
            parts.append(
                f'<td dir="auto">{escape(row.nominee_name or no_value)}{organisation}</td>'
            )
        parts.append(
            f"<td>{escape(LANGUAGES.get(row.language, row.language))}</td>"
            f'<td dir="auto">{escape(", ".join(row.topics) or no_value)}</td>'
            f'<td><fieldset{described}><legend class="visually-hidden">'
            f"{bid_on.replace(nul, reference)}</legend>"
        )
        for key, label in choices:
            suffix = key or "none"
            checked = " checked" if key == current else ""
            parts.append(
                '<div class="form-check form-check-inline">'
                f'<input class="form-check-input" type="radio" name="bid-{nid}"'
                f' id="bid-{nid}-{suffix}" value="{key}"{checked}>'
                f'<label class="form-check-label" for="bid-{nid}-{suffix}">{label}</label></div>'
            )
        if problem:
            error = escape(problem)
            parts.append(
                f'<div id="bid-{nid}-error" class="invalid-feedback d-block">{error}</div>'
            )
        parts.append(
            f'</fieldset></td><td><a href="{escape(conflict_url(nid))}">{declare}'
            f'<span class="visually-hidden"> — {reference}</span></a></td></tr>'
        )
    # Safe: every value above is escaped, a number, or a bid level's own value.
    return Markup("".join(parts))  # noqa: S704  # nosec B704


@bp.app_template_global()
def assigned_table_rows(
    category: Category, assigned: list[reviews.AssignedReview], criteria: int
) -> Markup:
    """The rows of a reviewer's table of assigned nominations (the dashboard, a committee's
    list). Written here for the reason the bids rows are: the template's loop cost 25 µs a
    row. References and names are escaped; dates are in the reader's language and zone,
    found once for the table."""
    locale_name, zone = reader_locale_zone()
    score_url = url_pattern("review.score", "nomination_id")
    open_the_review = escape(_("open the review"))
    badges = {state: review_state_badge(state) for state in ("not_started", "draft", "submitted")}
    # Flask-Babel returns the translated pattern itself when given no values: translated
    # once, formatted for each row.
    scored_pattern = _("%(n)d of %(total)d")
    no_value = "—"
    parts = []
    for item in assigned:
        reference = escape(item.reference)
        parts.append(
            f'<tr><td><a href="{escape(score_url(item.nomination_id))}"><code>{reference}</code>'
            f'<span class="visually-hidden"> — {open_the_review}</span></a></td>'
        )
        if not category.blind_review:
            parts.append(f'<td dir="auto">{escape(item.nominee_name or no_value)}</td>')
        scored = scored_pattern % {"n": item.scored, "total": criteria}
        saved = (
            local_datetime_in(item.updated_at, "medium", locale_name, zone)
            if item.updated_at
            else no_value
        )
        parts.append(
            f"<td>{escape(LANGUAGES.get(item.language, item.language))}</td>"
            f"<td>{badges[item.state]}</td><td>{escape(scored)}</td><td>{escape(saved)}</td></tr>"
        )
    # Safe: references, names and every word are escaped; badges are made of escaped words.
    return Markup("".join(parts))  # noqa: S704  # nosec B704


# --- Lookups -------------------------------------------------------------------------------


def _reviewable(nomination_id: int, *, shown: bool = False) -> tuple[Nomination, Any]:
    """The nomination and this reviewer's assignment; 404 to anyone who may not review it.
    ``shown``: the nomination is shown (its answers and files are read with it)."""
    # The category, its edition and its organisation come with the nomination: every
    # reviewing page prints them, and each was a statement of its own; so do the answers
    # and files of a nomination shown, a few rows each.
    options = [joinedload(Nomination.category).options(*CATEGORY_PAGE_LOADS)]
    if shown:
        options += [joinedload(Nomination.answers), joinedload(Nomination.attachments)]
    nomination = db.session.get(Nomination, nomination_id, options=options)
    if nomination is None:
        abort(404)
    standing = reviews.assignment_and_conflict(current_user, nomination)
    if standing is None or not permissions.can_review_nomination(
        current_user, nomination, *standing
    ):
        abort(404)
    return nomination, standing[0]


def _committee_nomination(nomination_id: int) -> Nomination:
    """A nomination this committee member may see the reference of (to declare a conflict)."""
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None or not (
        reviews.may_bid(current_user, nomination)
        or permissions.can_review_nomination(current_user, nomination)
    ):
        abort(404)
    return nomination


def _committee_category(category_id: int) -> Category:
    category = category_page_or_404(category_id)
    require(permissions.committee_role(current_user, category) is not None, hide=True)
    return category


# --- Dashboard and profile -----------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    return render_template("review/index.html", committees=reviews.committee_work(current_user))


@bp.get("/categories/<int:category_id>/assigned")
@login_required
def assigned(category_id: int):
    """All the nominations assigned to the reviewer in one committee, a page at a time: the
    dashboard shows the first DASHBOARD_REVIEWS of each committee."""
    category = _committee_category(category_id)
    wanted = page_number()

    def rows(page: int) -> tuple[list, dict]:
        offset = (page - 1) * ASSIGNED_PER_PAGE
        return reviews.assignments_with_progress(
            current_user, category.id, offset=offset, limit=ASSIGNED_PER_PAGE
        )

    # The rows carry the committee's counts; a page past the end (or an empty list) has none,
    # and the first row brings them.
    items, counted = rows(wanted)
    if category.id not in counted:
        counted = reviews.assignments_with_progress(current_user, category.id, limit=1)[1]
    progress = counted.get(category.id, reviews.ReviewProgress())
    page = Pager(progress.assigned, wanted, ASSIGNED_PER_PAGE)
    page.items = items if page.page == wanted else rows(page.page)[0]
    return render_template(
        "review/assigned.html",
        category=category,
        progress=progress,
        criteria=len(category.criteria),
        page=page,
    )


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def profile():
    require(bool(permissions.committee_categories(current_user)))
    form = ProfileForm()
    chosen_languages = list(current_user.review_languages or [])
    chosen_topics = list(current_user.review_topics or [])
    problem = None
    status = 200
    if request.method == "POST":
        chosen_languages = request.form.getlist("languages")
        chosen_topics = request.form.getlist("topics")
        if form.validate_on_submit():
            try:
                reviews.update_reviewer_profile(current_user, chosen_languages, chosen_topics)
            except reviews.ReviewError as exc:
                db.session.rollback()
                problem, status = str(exc), 400
            else:
                db.session.commit()
                flash(_("Your languages and topics are saved."), "success")
                return redirect(url_for("review.profile"))
        else:
            status = 400
    return (
        render_template(
            "review/profile.html",
            form=form,
            topics=reviews.known_topics(current_user),
            chosen_languages=chosen_languages,
            chosen_topics=chosen_topics,
            problem=problem,
            all_languages=LANGUAGES,
        ),
        status,
    )


# --- Bids ----------------------------------------------------------------------------------


@bp.route("/categories/<int:category_id>/bids", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def bids(category_id: int):
    category = _committee_category(category_id)
    form = BidsForm()
    pager = Pager(reviews.count_biddable(current_user, category), page_number(), BIDS_PER_PAGE)
    problems: dict[int, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        changed = 0
        rows = reviews.biddable_nominations(
            current_user, category, offset=pager.offset, limit=BIDS_PER_PAGE
        )
        for nomination, level in rows:
            if f"bid-{nomination.id}" not in request.form:
                continue  # not on the page that was sent
            wanted = request.form.get(f"bid-{nomination.id}", "")
            if wanted == (level.value if level else ""):
                continue
            try:
                reviews.set_bid(current_user, nomination, wanted or None)
                changed += 1
            except reviews.ReviewError as exc:
                problems[nomination.id] = str(exc)
        if problems:
            db.session.rollback()
            flash(_("Nothing was saved. Check the bids marked below."), "danger")
        else:
            db.session.commit()
            flash(
                _("Your bids are saved.") if changed else _("Your bids were already up to date."),
                "success",
            )
            return redirect(url_for("review.bids", category_id=category.id, page=pager.page))
        db.session.expire_all()  # show what is stored, not what was tried
    rows = reviews.bid_rows(current_user, category, offset=pager.offset, limit=BIDS_PER_PAGE)
    return (
        render_template(
            "review/bids.html",
            category=category,
            form=form,
            rows=bid_table_rows(rows, blind=category.blind_review, problems=problems),
            page=pager,
            problems=problems,
            closed=reviews.reviews_closed(category),
        ),
        400 if problems else 200,
    )


# --- Scoring -------------------------------------------------------------------------------


def _typed_scores(criteria) -> dict[int, str]:
    return {c.id: request.form.get(f"c-{c.id}", "") for c in criteria}


def _stored_scores(review) -> dict[int, str]:
    if review is None:
        return {}
    return {score.criterion_id: str(score.value) for score in review.scores}


def _render_score(nomination, assignment, form, chosen, problems=None, unsaved=None, status=200):
    review = assignment.review
    category = nomination.category
    return (
        render_template(
            "review/score.html",
            view=reviews.blind_view(nomination, current_user),
            category=category,
            criteria=category.criteria,
            review=review,
            form=form,
            chosen=chosen,
            problems=problems or {},
            unsaved=unsaved,
            closed=reviews.reviews_closed(category),
        ),
        status,
    )


@bp.route("/nominations/<int:nomination_id>", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def score(nomination_id: int):
    nomination, assignment = _reviewable(nomination_id, shown=request.method == "GET")
    criteria = nomination.category.criteria
    form = ScoreForm()
    if request.method == "GET":
        form.version.data = str(reviews.review_version(assignment.review))
        form.comments.data = assignment.review.comments if assignment.review else ""
        return _render_score(nomination, assignment, form, _stored_scores(assignment.review))

    typed = _typed_scores(criteria)
    if not form.validate_on_submit():
        return _render_score(nomination, assignment, form, typed, status=400)
    version = form.version.data or ""
    submit = bool(form.submit_review.data)
    try:
        problems = reviews.save_review(
            assignment,
            typed,
            form.comments.data or "",
            int(version) if version.isdigit() else None,
            submit,
            current_user,
        )
    except reviews.ReviewConflict as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        nomination, assignment = _reviewable(nomination_id, shown=True)
        unsaved = {
            "scores": [(c.title, typed.get(c.id) or "—") for c in criteria],
            "comments": form.comments.data or "",
        }
        fresh = ScoreForm(formdata=None)
        fresh.version.data = str(reviews.review_version(assignment.review))
        fresh.comments.data = assignment.review.comments if assignment.review else ""
        stored = _stored_scores(assignment.review)
        return _render_score(nomination, assignment, fresh, stored, unsaved=unsaved, status=409)
    except reviews.ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("review.score", nomination_id=nomination_id))
    if problems:
        db.session.rollback()
        return _render_score(nomination, assignment, form, typed, problems=problems, status=400)
    db.session.commit()
    if submit:
        flash(
            _(
                "Your review of %(ref)s is submitted. You can still revise it until reviews close.",
                ref=nomination.reference,
            ),
            "success",
        )
        return redirect(url_for("review.index"))
    flash(_("Your draft is saved. Submit the review when every criterion has a score."), "info")
    return redirect(url_for("review.score", nomination_id=nomination_id))


@bp.get("/nominations/<int:nomination_id>/attachments/<int:attachment_id>")
@login_required
def download(nomination_id: int, attachment_id: int):
    nomination, _assignment = _reviewable(nomination_id, shown=True)
    shown = reviews.blind_view(nomination, current_user).file(attachment_id)
    attachment = db.session.get(Attachment, attachment_id)
    if shown is None or attachment is None:
        abort(404)
    path = uploads.stored_path(attachment)
    if not path.exists():
        abort(404)
    response = send_file(
        path,
        mimetype=shown.content_type,
        as_attachment=True,
        download_name=shown.name,
        max_age=0,
        etag=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Conflicts -----------------------------------------------------------------------------


@bp.route("/nominations/<int:nomination_id>/conflict", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def conflict(nomination_id: int):
    nomination = _committee_nomination(nomination_id)
    form = ConflictForm()
    if form.validate_on_submit():
        try:
            conflicts.declare(current_user, nomination, form.reason.data or "")
        except conflicts.ConflictError as exc:
            db.session.rollback()
            form.reason.errors = [str(exc)]
        else:
            db.session.commit()
            flash(
                _(
                    "Your conflict with %(ref)s is recorded. It no longer appears among your "
                    "nominations, and the category’s administrators have been told.",
                    ref=nomination.reference,
                ),
                "success",
            )
            return redirect(url_for("review.index"))
    return (
        render_template(
            "review/conflict.html",
            form=form,
            view=reviews.blind_view(nomination, current_user),
            category=nomination.category,
        ),
        400 if form.errors else 200,
    )
