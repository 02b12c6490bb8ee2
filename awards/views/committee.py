"""Member administrators run their category's committee, assignments and results."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import Row, func, literal, null, or_, select, union_all
from wtforms import IntegerField, TextAreaField
from wtforms.validators import NumberRange, Optional

from .. import accounts, assigning, audit, exports, permissions, standings
from .. import results as scoring
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import ConfirmForm, Form, UserSearchForm
from ..models import (
    COMMITTEE_ROLES,
    Assignment,
    Category,
    Conflict,
    Nomination,
    Review,
    ReviewState,
    Role,
    RoleGrant,
    User,
)
from .helpers import (
    XLSX_TYPE,
    CountedPage,
    ListPage,
    category_page_or_404,
    download_response,
    get_or_404,
    managed_category,
    page_number,
    require,
)

bp = Blueprint("committee", __name__, url_prefix="/manage/categories")

RANKING_PER_PAGE = 50
REVIEWERS_PER_PAGE = 25
ASSIGNMENTS_PER_PAGE = 50
# Each member's row carries two forms; a coalition-wide committee runs to a hundred people.
COMMITTEE_PER_PAGE = 25
# Committee members offered at once on the assignments page: a search finds the others.
MEMBER_CHOICES = 30
AGGREGATE_LABELS = {
    scoring.Aggregate.MEAN: _l("mean"),
    scoring.Aggregate.MEDIAN: _l("median"),
    scoring.Aggregate.NORMALISED: _l("normalised score"),
}


class ReviewSettingsForm(Form):
    topics = TextAreaField(
        _l("Topics"),
        description=_l("One per line. Nominations and reviewers are matched on them."),
    )
    max_reviews_per_reviewer = IntegerField(
        _l("Maximum reviews per reviewer"),
        validators=[Optional(), NumberRange(1, 10_000)],
        description=_l("Leave empty to share the work evenly (within one of the average)."),
    )
    reminder_interval_days = IntegerField(
        _l("Remind reviewers every (days)"),
        validators=[Optional(), NumberRange(1, 60)],
        description=_l(
            "Reviewers with reviews outstanding get a reminder this often until reviews "
            "close. Leave empty for no reminders."
        ),
    )


# --- Committee -----------------------------------------------------------------------------


def _seats_query(category: Category, search: str = ""):
    """The committee's seats by member name; ``search`` keeps names or emails containing it.
    Rows of what the committee page shows of each seat and its member: the grant's and the
    person's whole rows took twice as long to read."""
    return (
        select(
            RoleGrant.id,
            RoleGrant.role,
            RoleGrant.user_id,
            User.name,
            User.email,
            User.review_languages,
            User.review_topics,
        )
        .join(User, User.id == RoleGrant.user_id)
        .where(*_seat_filter(category, search))
        .order_by(User.name, User.id)
    )


def _seat_filter(category: Category, search: str) -> list:
    """The conditions on role grants joined to their users of the committee's seats whose
    member's name or email contains ``search`` (all of them without one)."""
    conditions = [RoleGrant.category_id == category.id, RoleGrant.role.in_(COMMITTEE_ROLES)]
    if search:
        needle = search.lower()
        conditions.append(
            or_(
                User.email.contains(needle, autoescape=True),
                func.lower(User.name).contains(needle, autoescape=True),
            )
        )
    return conditions


def _render_committee(category: Category, form: ReviewSettingsForm):
    search_form = UserSearchForm(request.args)
    search = search_form.q.data.strip() if search_form.validate() and search_form.q.data else ""
    page = CountedPage(_seats_query(category, search), page_number(), COMMITTEE_PER_PAGE, rows=True)
    seats = page.items
    return render_template(
        "committee/members.html",
        category=category,
        seats=seats,
        page=page,
        search_form=search_form,
        search=search,
        workload=standings.workload(category),
        form=form,
        confirm_form=ConfirmForm(),
    )


@bp.get("/<int:category_id>/committee")
@login_required
def members(category_id: int):
    category = managed_category(category_id)
    form = ReviewSettingsForm(
        data={
            "topics": "\n".join(category.topics or []),
            "max_reviews_per_reviewer": category.max_reviews_per_reviewer,
            "reminder_interval_days": category.reminder_interval_days,
        }
    )
    return _render_committee(category, form)


@bp.post("/<int:category_id>/committee/settings")
@login_required
@keeps_input_on_csrf_failure
def settings(category_id: int):
    category = managed_category(category_id)
    form = ReviewSettingsForm()
    if not form.validate_on_submit():
        return _render_committee(category, form), 400
    topics = list(dict.fromkeys(t.strip()[:100] for t in (form.topics.data or "").splitlines()))
    category.topics = [t for t in topics if t][:200]
    category.max_reviews_per_reviewer = form.max_reviews_per_reviewer.data
    category.reminder_interval_days = form.reminder_interval_days.data
    audit.record(
        "category.review_settings",
        category,
        f"Review settings of {category.title} changed",
        topics=category.topics,
        max_reviews_per_reviewer=category.max_reviews_per_reviewer,
        reminder_interval_days=category.reminder_interval_days,
    )
    db.session.commit()
    flash(_("Review settings saved."), "success")
    return redirect(url_for("committee.members", category_id=category.id))


def _seat(category: Category, grant_id: int) -> RoleGrant:
    grant = get_or_404(RoleGrant, grant_id)
    if grant.category_id != category.id or grant.role not in COMMITTEE_ROLES:
        abort(404)
    return grant


@bp.post("/<int:category_id>/committee/<int:grant_id>/role")
@login_required
def change_role(category_id: int, grant_id: int):
    """Name a reviewer chair, or make a chair an ordinary reviewer again."""
    category = managed_category(category_id)
    grant = _seat(category, grant_id)
    role = Role.CHAIR if request.form.get("role") == Role.CHAIR.value else Role.REVIEWER
    require(permissions.can_invite(current_user, role, category=category))
    if ConfirmForm().validate_on_submit():
        accounts.grant_role(grant.user, accounts.GrantScope(role, category=category), current_user)
        db.session.commit()
        if role is Role.CHAIR:
            flash(_("%(name)s now chairs the committee.", name=grant.user.name), "success")
        else:
            flash(_("%(name)s is now a reviewer.", name=grant.user.name), "success")
    return redirect(url_for("committee.members", category_id=category.id))


# --- Assignments ---------------------------------------------------------------------------


def _assignable_query(category: Category, missing_only: bool):
    """The nominations to assign, by reference; ``missing_only``: those short of reviewers.
    Rows of what the page shows of them: whole nominations took twice as long to read."""
    query = (
        select(Nomination.id, Nomination.reference, Nomination.nominee_name)
        .where(
            Nomination.category_id == category.id,
            Nomination.state.in_(assigning.ASSIGNABLE_STATES),
        )
        .order_by(Nomination.number)
    )
    if missing_only:
        assigned = (
            select(func.count(Assignment.id))
            .where(Assignment.nomination_id == Nomination.id)
            .scalar_subquery()
        )
        query = query.where(assigned < category.reviewers_per_nomination)
    return query


def _assignment_rows(nominations: Sequence[Row]):
    """The reviewers and conflicts of these nominations (one page of them), in one statement:
    assignments in the order they were made, each with its review's state, then conflicts."""
    ids = [nomination.id for nomination in nominations]
    # The review's state by a lookup per assignment: joined, PostgreSQL chose to read every
    # review of the edition (3.4 ms for 13,000) rather than look up the page's 150.
    review_state = select(Review.state).where(Review.assignment_id == Assignment.id)
    reviewers = select(
        literal(True).label("assigned"),
        Assignment.id,
        Assignment.nomination_id,
        Assignment.reviewer_id,
        review_state.scalar_subquery().label("state"),
    ).where(Assignment.nomination_id.in_(ids))
    conflicts = select(
        literal(False), Conflict.id, Conflict.nomination_id, Conflict.reviewer_id, null()
    ).where(Conflict.nomination_id.in_(ids))
    assigned: dict[int, list[tuple[int, ReviewState | None]]] = defaultdict(list)
    conflicted: dict[int, list[int]] = defaultdict(list)
    rows = db.session.execute(union_all(reviewers, conflicts)).all()
    for is_assignment, _id, nid, rid, state in sorted(rows, key=lambda row: (not row[0], row[1])):
        if is_assignment:
            assigned[nid].append((rid, state))
        else:
            conflicted[nid].append(rid)
    return assigned, conflicted


def _names(ids, known: Mapping[int, str] | None = None) -> dict[int, str]:
    """The names of these people: from ``known`` (names read already) where it has them."""
    known = known or {}
    names = {person_id: known[person_id] for person_id in ids if person_id in known}
    missing = set(ids) - names.keys()
    if missing:
        names.update(
            db.session.execute(select(User.id, User.name).where(User.id.in_(missing))).all()
        )
    return names


def _people(ids) -> dict[int, User]:
    ids = set(ids)
    if not ids:
        return {}
    return {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}


def assignment_table_rows(
    nominations: Sequence[Row],
    assigned: Mapping[int, list[tuple[int, ReviewState | None]]],
    conflicted: Mapping[int, list[int]],
    names: Mapping[int, str],
    reviewers_per_nomination: int,
) -> Markup:
    """The assignments page's table rows: each nomination with its reviewers and their
    reviews' state, what it still lacks, and its conflicts. Written here rather than as a
    loop in the template, which cost 15 µs a row (this, a quarter of that); names and
    references are escaped, the rest are numbers and our own words."""
    states = {
        None: escape(_("not started")),
        ReviewState.DRAFT: escape(_("draft")),
        ReviewState.SUBMITTED: escape(_("submitted")),
    }
    none = escape(_("none"))  # outside the f-string, where pybabel finds the word
    no_conflict = f'<span class="text-body-secondary">{none}</span>'
    parts = []
    for nomination in nominations:
        nid = int(nomination.id)
        reviewers = assigned.get(nid, [])
        parts.append(
            f'<tr><td><input class="form-check-input" type="checkbox" name="nomination"'
            f' value="{nid}" id="nomination-{nid}"></td>'
            f'<td><label for="nomination-{nid}"><code>{escape(nomination.reference)}</code>'
            f'</label></td><td dir="auto">{escape(nomination.nominee_name)}</td><td>'
        )
        if reviewers:
            items = "".join(
                f"<li>{escape(names[rid])} — {states[state]}</li>" for rid, state in reviewers
            )
            parts.append(f'<ul class="list-unstyled mb-0">{items}</ul>')
        missing = reviewers_per_nomination - len(reviewers)
        if missing > 0:
            label = ngettext("%(num)d reviewer missing", "%(num)d reviewers missing", missing)
            parts.append(f'<span class="badge text-bg-warning border">{escape(label)}</span>')
        conflicts = ", ".join(str(escape(names[rid])) for rid in conflicted.get(nid, []))
        parts.append(f"</td><td>{conflicts or no_conflict}</td></tr>")
    # Safe: every name and reference is escaped above; the rest are numbers and our words.
    return Markup("".join(parts))  # noqa: S704  # nosec B704


def member_checkboxes(members: Mapping[int, str], load: standings.Workload) -> Markup:
    """The committee members to tick on the assignments page, each with how many reviews it
    has been given; written here for the reason the rows are."""
    parts = []
    for user_id, name in members.items():
        uid = int(user_id)
        given = ngettext("%(num)d assigned", "%(num)d assigned", load.get(uid)[1])
        parts.append(
            '<div class="col-md-4 form-check"><input class="form-check-input" type="checkbox"'
            f' name="reviewer" value="{uid}" id="reviewer-{uid}"><label class="form-check-label"'
            f' for="reviewer-{uid}">{escape(name)} ({escape(given)})</label></div>'
        )
    # Safe: the names and the counts' wording are escaped; the rest are numbers.
    return Markup("".join(parts))  # noqa: S704  # nosec B704


@bp.get("/<int:category_id>/assignments")
@login_required
def assignments(category_id: int):
    category = managed_category(category_id)
    missing_only = request.args.get("missing") == "1"
    workload = standings.workload(category)
    page = CountedPage(
        _assignable_query(category, missing_only),
        page_number(),
        ASSIGNMENTS_PER_PAGE,
        None if missing_only else workload.nominations,
        rows=True,
    )
    nominations = list(page.items)
    assigned, conflicted = _assignment_rows(nominations)
    search_form = UserSearchForm(request.args)
    who = search_form.q.data.strip() if search_form.validate() and search_form.q.data else ""
    members, member_count, committee_names = _member_choices(category, who, workload)
    names = _names(
        {rid for rows in assigned.values() for rid, _state in rows}
        | {rid for rids in conflicted.values() for rid in rids},
        known=committee_names,
    )
    return render_template(
        "committee/assignments.html",
        category=category,
        nominations=nominations,
        page=page,
        missing_only=missing_only,
        rows=assignment_table_rows(
            nominations, assigned, conflicted, names, category.reviewers_per_nomination
        ),
        member_boxes=member_checkboxes(members, workload),
        members=members,
        member_count=member_count,
        search_form=search_form,
        who=who,
        form=ConfirmForm(),
    )


def _member_choices(
    category: Category, search: str, load: standings.Workload
) -> tuple[dict[int, str], int, dict[int, str]]:
    """The committee members to offer as reviewers, id -> name: those the search finds (all
    of them without one), the least loaded first, at most MEMBER_CHOICES; how many there
    are; and the names of all of them (the reviewers shown are nearly always among them).
    Sorted here by the cached workload: a committee has hundreds of members at most, while
    its load is counted from every assignment of the category."""
    members = db.session.execute(
        select(RoleGrant.user_id, User.name)
        .join(User, User.id == RoleGrant.user_id)
        .where(*_seat_filter(category, search))
    ).all()
    members.sort(key=lambda m: (load.get(m.user_id)[1], m.name.casefold(), m.user_id))
    return dict(members[:MEMBER_CHOICES]), len(members), dict(members)


def _ids(name: str) -> list[int]:
    return [int(value) for value in request.form.getlist(name) if value.isdigit()]


@bp.post("/<int:category_id>/assignments/change")
@login_required
def change_assignments(category_id: int):
    """Add or remove the chosen reviewers on the chosen nominations (bulk or one by one)."""
    category = managed_category(category_id)
    back = redirect(url_for("committee.assignments", category_id=category.id))
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return back
    nomination_ids, reviewer_ids = _ids("nomination"), _ids("reviewer")
    if not nomination_ids or not reviewer_ids:
        flash(_("Choose at least one nomination and one reviewer."), "warning")
        return back
    action = request.form.get("action")
    try:
        if action == "add":
            change = assigning.add_assignments(category, nomination_ids, reviewer_ids, current_user)
        elif action == "remove":
            pairs = [(n, r) for n in nomination_ids for r in reviewer_ids]
            change = assigning.remove_assignments(
                category,
                pairs,
                current_user,
                force=request.form.get("force") == "y",
                reason=request.form.get("reason", "")[:2000],
            )
        else:
            abort(400)
    except assigning.AssigningError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return back
    db.session.commit()
    if change.added:
        flash(
            _("%(num)d assignment(s) added; the reviewers will be emailed.", num=len(change.added)),
            "success",
        )
    if change.removed:
        flash(_("%(num)d assignment(s) removed.", num=len(change.removed)), "success")
    if change.refused:
        reasons = sorted({reason for _pair, reason in change.refused})
        flash(
            _("%(num)d refused: %(why)s", num=len(change.refused), why=" ".join(reasons)),
            "danger",
        )
    if not (change.added or change.removed or change.refused):
        flash(_("Nothing to change."), "info")
    return back


@bp.post("/<int:category_id>/assignments/plan")
@login_required
def plan(category_id: int):
    """Compute the automatic assignment and show it for approval; nothing is assigned yet."""
    category = managed_category(category_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("committee.assignments", category_id=category.id))
    try:
        assigning.require_reviewing(category)
    except assigning.AssigningError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("committee.assignments", category_id=category.id))
    proposal = assigning.plan(category)
    db.session.commit()  # conflicts detected on the way are recorded either way
    kept = {rid for rids in proposal.kept.values() for rid in rids}
    names = {u.id: u.name for u in _people(set(proposal.reviewer_names) | kept).values()}
    return render_template(
        "committee/proposal.html",
        category=category,
        proposal=proposal,
        names=names,
        token=assigning.sign_pairs(category, proposal.pairs) if proposal.feasible else "",
        form=ConfirmForm(),
    )


@bp.post("/<int:category_id>/assignments/approve")
@login_required
def approve(category_id: int):
    category = managed_category(category_id)
    back = redirect(url_for("committee.assignments", category_id=category.id))
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please compute the proposal again."), "danger")
        return back
    try:
        pairs = assigning.unsign_pairs(category, request.form.get("proposal", ""))
        change = assigning.apply(category, pairs, current_user)
    except assigning.AssigningError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return back
    db.session.commit()
    flash(
        _(
            "%(num)d assignment(s) saved; each reviewer will get one email listing theirs.",
            num=len(change.added),
        ),
        "success",
    )
    return back


# --- Results -------------------------------------------------------------------------------


def _results_category(category_id: int) -> Category:
    category = category_page_or_404(category_id)
    require(permissions.can_see_scores(current_user, category))
    return category


def _hidden_nominations(category: Category) -> set[int]:
    """Nominations whose scores the viewer must not see: those they are conflicted with."""
    return set(
        db.session.execute(
            select(Conflict.nomination_id)
            .join(Nomination, Nomination.id == Conflict.nomination_id)
            .where(Conflict.reviewer_id == current_user.id, Nomination.category_id == category.id)
        ).scalars()
    )


def _submitted_reviews(category: Category, hidden: set[int]):
    """(review, assignment) of every submitted review, hidden nominations left out."""
    rows = db.session.execute(
        select(Review, Assignment)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(
            Nomination.category_id == category.id,
            Nomination.state.in_(standings.REPORTED_STATES),
            Review.state == ReviewState.SUBMITTED,
        )
        .options(db.selectinload(Review.scores))
    ).all()
    return [(review, a) for review, a in rows if a.nomination_id not in hidden]


def _compute(category: Category):
    """The category's standing (what is kept of it), its results and nominations as the viewer
    may see them, and those hidden."""
    hidden = _hidden_nominations(category)
    standing = standings.standing(category)
    results, nominations = standing.seen_by(hidden)
    return standing, results, nominations, hidden


def _visible_only(results: scoring.CategoryResults, hidden: set[int]) -> scoring.CategoryResults:
    """The results with hidden nominations removed from the reviewers' profiles too."""
    if not hidden:
        return results
    profiles = {}
    for reviewer_id, profile in results.reviewers.items():
        totals = {nid: t for nid, t in profile.totals.items() if nid not in hidden}
        if totals:
            profiles[reviewer_id] = scoring.reviewer_profile(reviewer_id, totals)
    return replace(results, reviewers=profiles)


def _nominee_shown(category: Category) -> bool:
    """Blind categories keep nominees' names from the committee, chair included."""
    return not category.blind_review or permissions.can_manage_category(current_user, category)


@bp.get("/<int:category_id>/results")
@login_required
def results(category_id: int):
    category = _results_category(category_id)
    by = request.args.get("by", scoring.Aggregate.MEAN.value)
    if by not in {a.value for a in scoring.Aggregate}:
        by = scoring.Aggregate.MEAN.value
    standing, computed, _nominations, hidden = _compute(category)
    by_id = standing.by_id()  # the rows shown are among the visible ones
    context = {
        "category": category,
        "nominations": by_id,
        "by": by,
        "aggregate_labels": AGGREGATE_LABELS,
        "hidden_count": len(hidden),
        "results": None,
        "show_nominee": _nominee_shown(category),
    }
    if computed is not None:
        ranking = computed.ranking(by)
        page = ListPage(ranking, page_number(), RANKING_PER_PAGE)
        # The names of the reviewers of this page's rows, in one query.
        shown = (computed.nominations[entry.nomination_id] for entry in page.items)
        reviewer_names = _names({rid for result in shown for rid in result.totals})
        # The chart draws the top of the ranking: the first rows keep their ranks.
        top = ranking[:RANKING_PER_PAGE]

        def chart() -> Markup:
            charted = replace(
                computed,
                nominations={e.nomination_id: computed.nominations[e.nomination_id] for e in top},
            )
            references = {e.nomination_id: by_id[e.nomination_id].reference for e in top}
            # Plain SVG built by results.py with every text escaped: markup, not script.
            return Markup(scoring.svg_ranking(charted, by=by, nominee_names=references))  # noqa: S704

        context.update(
            results=computed,
            ranking=page,
            charted=len(top),
            reviewer_names=reviewer_names,
            # The same for everyone who has no conflict in the category: kept with the standing.
            ranking_svg=chart() if hidden else standing.kept(("chart", by), chart),
        )
    return render_template("committee/results.html", **context)


@bp.get("/<int:category_id>/results/reviewers")
@login_required
def reviewer_scores(category_id: int):
    """How each reviewer scores, a page of reviewers at a time: with a committee of a hundred,
    one chart of every review would be most of the results page's weight."""
    category = _results_category(category_id)
    _standing, computed, nominations, hidden = _compute(category)
    context = {"category": category, "hidden_count": len(hidden), "profiles": None}
    if computed is not None:
        visible = _visible_only(computed, hidden)
        names = _names(visible.reviewers)
        ordered = sorted(
            visible.reviewers.values(),
            key=lambda p: (names.get(p.reviewer_id, "").casefold(), p.reviewer_id),
        )
        page = ListPage(ordered, page_number(), REVIEWERS_PER_PAGE)
        shown = replace(visible, reviewers={p.reviewer_id: p for p in page.items})
        context.update(
            profiles=page,
            names=names,
            medians={p.reviewer_id: statistics.median(p.totals.values()) for p in page.items},
            # Plain SVG built by results.py with every text escaped: markup, not script.
            distribution_svg=Markup(  # noqa: S704
                scoring.svg_distribution(
                    shown,
                    reviewer_names=names,
                    nominee_names={n.id: n.reference for n in nominations},
                )
            ),
        )
    return render_template("committee/reviewer_scores.html", **context)


def _export_table(category: Category) -> tuple[list[str], list[list]]:
    hidden = _hidden_nominations(category)
    criteria = list(category.criteria)
    show_nominee = _nominee_shown(category)
    header = [
        str(_l("Reference")),
        *([str(_l("Nominee"))] if show_nominee else []),
        str(_l("Reviewer")),
        str(_l("Reviewer email")),
        str(_l("Submitted (UTC)")),
        *[f"{c.title} ({c.scale_min}–{c.scale_max}, ×{c.weight:g})" for c in criteria],
        str(_l("Weighted total (0–100)")),
        str(_l("Comments")),
    ]
    scale = [scoring.Criterion(c.id, c.weight, c.scale_min, c.scale_max) for c in criteria]
    reviews = _submitted_reviews(category, hidden)
    nominations = {
        n.id: n
        for n in db.session.execute(
            select(Nomination).where(Nomination.id.in_({a.nomination_id for _r, a in reviews}))
        ).scalars()
    }
    people = _people({a.reviewer_id for _r, a in reviews})
    rows = []
    for review, assignment in sorted(
        reviews,
        key=lambda item: (
            nominations[item[1].nomination_id].number,
            people[item[1].reviewer_id].name,
        ),
    ):
        nomination = nominations[assignment.nomination_id]
        reviewer = people[assignment.reviewer_id]
        scores = {score.criterion_id: score.value for score in review.scores}
        try:
            total = round(scoring.weighted_total(scores, scale), 2) if scale else ""
        except ValueError:
            total = ""
        rows.append(
            [
                nomination.reference,
                *([nomination.nominee_name] if show_nominee else []),
                reviewer.name,
                reviewer.email,
                review.submitted_at.strftime("%Y-%m-%d %H:%M") if review.submitted_at else "",
                *[scores.get(c.id, "") for c in criteria],
                total,
                review.comments,
            ]
        )
    return header, rows


def _export_name(category: Category, extension: str) -> str:
    return f"{category.edition.code}-{category.organisation.short_name}-scores.{extension}"


@bp.get("/<int:category_id>/results.csv")
@login_required
def results_csv(category_id: int):
    category = _results_category(category_id)
    header, rows = _export_table(category)
    return download_response(
        exports.to_csv(header, rows), "text/csv; charset=utf-8", _export_name(category, "csv")
    )


@bp.get("/<int:category_id>/results.xlsx")
@login_required
def results_xlsx(category_id: int):
    category = _results_category(category_id)
    header, rows = _export_table(category)
    data = exports.to_xlsx(header, rows, title=str(_l("Scores")))
    return download_response(data, XLSX_TYPE, _export_name(category, "xlsx"))
