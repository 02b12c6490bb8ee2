"""The winners: public pages, feeds and certificates, previews under embargo, and publishing.

Before an edition is published its results exist only for the people who decide them (the
Secretariat, each category's chairs and its member's administrators), who see a marked
preview. Everyone else gets the same 404 as for a page that never existed: no page, feed or
error message tells that a winner is there.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import certificates, feeds, permissions, publication
from ..extensions import db, login_manager
from ..forms import ConfirmForm
from ..models import Category, CategoryState, Decision, Edition
from .helpers import rule_required

bp = Blueprint("winners", __name__)

# Categories whose results a page can show: decided (a preview) or published.
RESULT_STATES = (CategoryState.DECIDED, CategoryState.PUBLISHED)
MAX_REFERENCE = 40
LARGEST_ID = 2**31 - 1


def _edition_for_year(year: int) -> Edition:
    if not 2000 <= year <= 2200:
        abort(404)
    edition = db.session.execute(select(Edition).where(Edition.year == year)).scalar_one_or_none()
    if edition is None:
        abort(404)
    return edition


def _visible_categories(edition: Edition) -> list[Category]:
    """The categories of the edition whose results this person may see now."""
    return [
        category
        for category in edition.categories
        if category.state in RESULT_STATES and permissions.can_see_results(current_user, category)
    ]


def _is_preview(category: Category) -> bool:
    """Shown only because of the person's role: not public yet."""
    return not (
        permissions.results_public(category.edition) and category.state is CategoryState.PUBLISHED
    )


def _visible_decision(year: int, reference: str) -> Decision:
    """The approved decision behind a winner's address, or 404 for whoever may not see it."""
    edition = _edition_for_year(year)
    if len(reference) > MAX_REFERENCE:
        abort(404)
    decision = feeds.find_decision(edition, reference)
    if decision is None:
        abort(404)
    category = decision.nomination.category
    if category.state not in RESULT_STATES or not permissions.can_see_results(
        current_user, category
    ):
        abort(404)
    return decision


def _private(response: Response) -> Response:
    """A preview stays out of shared caches and search engines."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- Pages -----------------------------------------------------------------------------------


@bp.get("/winners")
def index():
    editions = list(db.session.execute(select(Edition).order_by(Edition.year.desc())).scalars())
    published = [e for e in editions if permissions.results_public(e)]
    previews = [e for e in editions if not permissions.results_public(e) and _visible_categories(e)]
    upcoming = next((e for e in editions if not permissions.results_public(e)), None)
    return render_template(
        "winners/index.html",
        published=published,
        previews=previews,
        upcoming=upcoming,
        counts={e.id: len(feeds.published_decisions(e)) for e in published},
    )


@bp.get("/editions/<int:year>/winners")
def edition(year: int):
    found = _edition_for_year(year)
    categories = _visible_categories(found)
    if not categories:
        abort(404)
    decisions = feeds.approved_decisions(categories)
    previews = {category.id for category in categories if _is_preview(category)}
    response = Response(
        render_template(
            "winners/edition.html",
            edition=found,
            categories=categories,
            decisions=decisions,
            previews=previews,
            embargoed=not permissions.results_public(found),
        )
    )
    return _private(response) if previews else response


@bp.get("/editions/<int:year>/winners/<reference>")
def winner(year: int, reference: str):
    decision = _visible_decision(year, reference)
    nomination = decision.nomination
    if reference != nomination.reference:
        return redirect(url_for(".winner", year=year, reference=nomination.reference), 301)
    category = nomination.category
    preview = _is_preview(category)
    response = Response(
        render_template(
            "winners/winner.html",
            decision=decision,
            nomination=nomination,
            category=category,
            edition=category.edition,
            preview=preview,
            page_url=feeds.winner_url(decision),
            summary=feeds.citation_text(decision.citation),
            may_download=permissions.can_download_certificate(current_user, decision),
        )
    )
    return _private(response) if preview else response


@bp.get("/editions/<int:year>/winners/<reference>/certificate.pdf")
def certificate(year: int, reference: str):
    decision = _visible_decision(year, reference)
    if not permissions.can_download_certificate(current_user, decision):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()  # the winner, arriving from the email
        abort(404)
    try:
        pdf = certificates.certificate_pdf(decision)
    except certificates.CertificateError:
        abort(503)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{certificates.certificate_filename(decision)}"'
    )
    return _private(response)


# --- Feeds -----------------------------------------------------------------------------------


@bp.get("/winners.json")
def feed_json():
    decisions = feeds.published_decisions()
    return jsonify(feeds.json_feed(decisions, url_for(".feed_json", _external=True)))


@bp.get("/editions/<int:year>/winners.json")
def edition_json(year: int):
    found = _edition_for_year(year)
    if not permissions.results_public(found):
        abort(404)  # feeds carry published results only, whoever asks
    decisions = feeds.published_decisions(found)
    return jsonify(feeds.json_feed(decisions, url_for(".edition_json", year=year, _external=True)))


@bp.get("/winners.atom")
def feed_atom():
    decisions = feeds.published_decisions()
    editions = db.session.execute(
        select(Edition).where(Edition.published_at.is_not(None))
    ).scalars()
    updated = max((e.published_at for e in editions), default=None)
    body = render_template(
        "winners/feed.xml",
        decisions=decisions,
        updated=feeds.rfc3339(updated) or "1970-01-01T00:00:00Z",
        feed_url=url_for(".feed_atom", _external=True),
        home_url=url_for(".index", _external=True),
        winner_url=feeds.winner_url,
        rfc3339=feeds.rfc3339,
        citation_html=feeds.citation_html,
    )
    return Response(feeds.xml_safe(body), mimetype="application/atom+xml")


# --- Publishing by hand ----------------------------------------------------------------------


@bp.route("/secretariat/editions/<int:edition_id>/publish", methods=["GET", "POST"])
@rule_required(permissions.can_publish_results)
def publish(edition_id: int):
    if not 1 <= edition_id <= LARGEST_ID:
        abort(404)
    found = db.session.get(Edition, edition_id)
    if found is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            result = publication.publish_edition(found, current_user)
        except publication.PublicationError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".publish", edition_id=edition_id))
        db.session.commit()
        if result.published:
            flash(
                ngettext(
                    "%(num)d category published; %(emails)d emails queued.",
                    "%(num)d categories published; %(emails)d emails queued.",
                    len(result.categories),
                    emails=result.emails,
                ),
                "success",
            )
        else:
            flash(
                _(
                    "The results of %(edition)s were already published and nothing was decided "
                    "since: nothing changed and no email was queued.",
                    edition=found.name,
                ),
                "info",
            )
        return redirect(url_for(".edition", year=found.year))
    plan = publication.plan(found)
    return render_template(
        "winners/publish.html",
        edition=found,
        plan=plan,
        emails=plan.new_emails() if not plan.problems else {},
        form=form,
    )
