"""Decisions: the committee's shortlist and proposal, the Secretariat's approval and overview."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import decisions, exports, lifecycle, permissions
from .. import results as scoring
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import ConfirmForm
from ..forms_decisions import ProposalAnswerForm, ProposalForm
from ..forms_screening import STATE_LABELS
from ..models import Category, DecisionKind, Edition, Nomination
from .committee import AGGREGATE_LABELS, RANKING_PER_PAGE, _compute, _nominee_shown
from .helpers import (
    XLSX_TYPE,
    ListPage,
    category_page_or_404,
    download_response,
    get_or_404,
    page_number,
    require,
    rule_required,
)

bp = Blueprint("decisions", __name__)


# --- The committee's side ------------------------------------------------------------------


def _category(category_id: int) -> Category:
    """The category if the signed-in person may see its scores (and so its decisions)."""
    category = category_page_or_404(category_id)
    require(permissions.can_see_scores(current_user, category))
    return category


def _nomination(category: Category, nomination_id: int) -> Nomination:
    """A nomination the committee decides on; 404 when conflicted, as for the scores."""
    nomination = get_or_404(Nomination, nomination_id)
    if (
        nomination.category_id != category.id
        or nomination.state not in decisions.SCREENED_IN
        or permissions.is_conflicted(current_user, nomination)
    ):
        abort(404)
    return nomination


def _back(category: Category, anchor: str = "") -> Response:
    url = url_for("decisions.category", category_id=category.id)
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _attempt(step: Callable[[], object], success: str) -> bool:
    """Run a decision rule and commit; tell the person what happened either way."""
    try:
        step()
        db.session.commit()
    except (decisions.DecisionError, lifecycle.TransitionError) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    except StaleDataError:
        db.session.rollback()
        flash(
            _("Someone else changed this nomination meanwhile. Check it and try again."), "warning"
        )
    else:
        flash(success, "success")
        return True
    return False


@bp.get("/manage/categories/<int:category_id>/decisions")
@login_required
def category(category_id: int):
    category = _category(category_id)
    by = request.args.get("by", scoring.Aggregate.MEAN.value)
    if by not in {a.value for a in scoring.Aggregate}:
        by = scoring.Aggregate.MEAN.value
    standing, computed, nominations, hidden = _compute(category)
    if computed is not None:
        ranking = computed.ranking(by)
    else:
        ranking = [scoring.RankedNomination(None, n.id, None, False) for n in nominations]
    proposals = decisions.decisions_of(category)
    visible = [d for d in proposals if d.nomination_id not in hidden]
    counts = decisions.counts_by_kind(proposals)
    can_decide = permissions.can_decide(current_user, category)
    return render_template(
        "decisions/category.html",
        category=category,
        by=by,
        aggregate_labels=AGGREGATE_LABELS,
        results=computed,
        ranking=ListPage(ranking, page_number(), RANKING_PER_PAGE),
        nominations=standing.by_id(),  # the rows shown are among the visible ones
        proposals=visible,
        proposed={d.nomination_id: d for d in visible},
        hidden_proposals=len(proposals) - len(visible),
        counts=counts,
        limits={kind: decisions.limit_for(category, kind) for kind in DecisionKind},
        status=decisions.proposal_status(category, bool(proposals)),
        lock=decisions.committee_lock(category),
        can_decide=can_decide,
        can_mark_not_selected=permissions.can_mark_not_selected(current_user, category),
        not_selected=decisions.not_selected_candidates(category)
        if category.state in decisions.RESULTS_LOCKED
        else [],
        show_nominee=_nominee_shown(category),
        kind_labels=decisions.KIND_LABELS,
        form=ConfirmForm(),
    )


@bp.post("/manage/categories/<int:category_id>/decisions/<int:nomination_id>/shortlist")
@login_required
def shortlist(category_id: int, nomination_id: int):
    category = _category(category_id)
    require(permissions.can_decide(current_user, category))
    nomination = _nomination(category, nomination_id)
    if ConfirmForm().validate_on_submit():
        _attempt(
            lambda: decisions.shortlist(nomination, current_user),
            _("%(ref)s is on the shortlist.", ref=nomination.reference),
        )
    return _back(category, "ranking")


@bp.post("/manage/categories/<int:category_id>/decisions/<int:nomination_id>/unshortlist")
@login_required
def unshortlist(category_id: int, nomination_id: int):
    category = _category(category_id)
    require(permissions.can_decide(current_user, category))
    nomination = _nomination(category, nomination_id)
    if ConfirmForm().validate_on_submit():
        _attempt(
            lambda: decisions.unshortlist(nomination, current_user),
            _("%(ref)s is off the shortlist.", ref=nomination.reference),
        )
    return _back(category, "ranking")


@bp.route(
    "/manage/categories/<int:category_id>/decisions/<int:nomination_id>", methods=["GET", "POST"]
)
@login_required
@keeps_input_on_csrf_failure
def proposal(category_id: int, nomination_id: int):
    category = _category(category_id)
    require(permissions.can_decide(current_user, category))
    nomination = _nomination(category, nomination_id)
    decision = decisions.decision_for(nomination)
    lock = decisions.committee_lock(category)
    if lock is not None:
        flash(lock, "info")
        return _back(category, "proposals")
    if request.method == "GET":
        form = ProposalForm(data=decisions.proposal_defaults(nomination, decision))
    else:
        form = ProposalForm()
    show_nominee = _nominee_shown(category)
    if not show_nominee:
        # A blind committee does not learn who the nominee is: the administrators set the
        # public name, and the proposal keeps it.
        for name in decisions.IDENTITY_FIELDS:
            delattr(form, name)
    if form.validate_on_submit():
        values = {name: form[name].data for name in ("kind", "rank", "citation")}
        for name in decisions.IDENTITY_FIELDS:
            if show_nominee:
                values[name] = form[name].data
        try:
            decisions.propose(nomination, values, current_user)
            db.session.commit()
        except decisions.DecisionError as exc:
            db.session.rollback()
            if exc.field and exc.field in form:
                form[exc.field].errors.append(str(exc))
            else:
                flash(str(exc), "danger")
        except StaleDataError:
            db.session.rollback()
            flash(
                _("Someone else changed this nomination meanwhile. Check it and try again."),
                "warning",
            )
        else:
            flash(_("Proposal for %(ref)s saved.", ref=nomination.reference), "success")
            return _back(category, "proposals")
    status = 400 if request.method == "POST" else 200
    return render_template(
        "decisions/proposal.html",
        category=category,
        nomination=nomination,
        decision=decision,
        form=form,
        show_nominee=show_nominee,
        remove_form=ConfirmForm(),
        limits={kind: decisions.limit_for(category, kind) for kind in DecisionKind},
    ), status


@bp.post("/manage/categories/<int:category_id>/decisions/<int:nomination_id>/remove")
@login_required
def remove(category_id: int, nomination_id: int):
    category = _category(category_id)
    require(permissions.can_decide(current_user, category))
    nomination = _nomination(category, nomination_id)
    if ConfirmForm().validate_on_submit():
        _attempt(
            lambda: decisions.withdraw_proposal(nomination, current_user),
            _("The proposal for %(ref)s is removed.", ref=nomination.reference),
        )
    return _back(category, "proposals")


@bp.post("/manage/categories/<int:category_id>/decisions/submit")
@login_required
def submit(category_id: int):
    category = _category(category_id)
    require(permissions.can_decide(current_user, category))
    if ConfirmForm().validate_on_submit():
        _attempt(
            lambda: decisions.submit_proposal(category, current_user),
            _("The proposal is with the Secretariat; we emailed it."),
        )
    return _back(category, "proposals")


@bp.post("/manage/categories/<int:category_id>/decisions/not-selected")
@login_required
def not_selected(category_id: int):
    category = _category(category_id)
    require(permissions.can_mark_not_selected(current_user, category))
    if ConfirmForm().validate_on_submit():
        try:
            marked = decisions.mark_not_selected(category, current_user)
            db.session.commit()
        except (decisions.DecisionError, lifecycle.TransitionError) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        except StaleDataError:
            db.session.rollback()
            flash(_("Someone else changed a nomination meanwhile. Please try again."), "warning")
        else:
            flash(
                ngettext(
                    "%(num)d nomination is marked not selected.",
                    "%(num)d nominations are marked not selected.",
                    marked,
                ),
                "success",
            )
    return _back(category)


# --- The Secretariat's side ----------------------------------------------------------------


def _newest_edition() -> Edition | None:
    return db.session.execute(
        select(Edition).order_by(Edition.year.desc()).limit(1)
    ).scalar_one_or_none()


@bp.get("/secretariat/overview")
@rule_required(permissions.is_secretariat)
def current_overview():
    edition = _newest_edition()
    if edition is None:
        flash(_("There is no edition yet."), "info")
        return redirect(url_for("secretariat.editions"))
    return redirect(url_for("decisions.overview", edition_id=edition.id))


@bp.get("/secretariat/proposals")
@rule_required(permissions.can_approve_decisions)
def current_proposals():
    edition = _newest_edition()
    if edition is None:
        flash(_("There is no edition yet."), "info")
        return redirect(url_for("secretariat.editions"))
    return redirect(url_for("decisions.proposals", edition_id=edition.id))


@bp.get("/secretariat/editions/<int:edition_id>/overview")
@rule_required(permissions.is_secretariat)
def overview(edition_id: int):
    edition = get_or_404(Edition, edition_id)
    rows = decisions.edition_progress(edition)
    return render_template(
        "decisions/overview.html",
        edition=edition,
        rows=rows,
        editions=_editions(),
    )


def _editions() -> list[Edition]:
    return list(db.session.execute(select(Edition).order_by(Edition.year.desc())).scalars())


def _answer_form(category: Category, formdata=None) -> ProposalAnswerForm:
    if formdata is None:
        return ProposalAnswerForm(formdata=None, prefix=f"c{category.id}")
    return ProposalAnswerForm(prefix=f"c{category.id}")


def _render_proposals(
    edition: Edition, bound: ProposalAnswerForm | None = None, bound_id: int | None = None
):
    categories = decisions.edition_categories(edition)
    grouped = decisions.edition_decisions(edition)
    statuses = {c.id: decisions.proposal_status(c, bool(grouped.get(c.id))) for c in categories}
    waiting = [c for c in categories if statuses[c.id] is decisions.ProposalStatus.SUBMITTED]
    approved = [c for c in categories if statuses[c.id] is decisions.ProposalStatus.APPROVED]
    forms = {
        c.id: bound if bound is not None and c.id == bound_id else _answer_form(c) for c in waiting
    }
    return render_template(
        "decisions/proposals.html",
        edition=edition,
        editions=_editions(),
        waiting=waiting,
        approved=approved,
        others=[c for c in categories if c not in waiting and c not in approved],
        grouped=grouped,
        forms=forms,
        statuses=statuses,
        kind_labels=decisions.KIND_LABELS,
    )


@bp.get("/secretariat/editions/<int:edition_id>/proposals")
@rule_required(permissions.can_approve_decisions)
def proposals(edition_id: int):
    return _render_proposals(get_or_404(Edition, edition_id))


@bp.post("/secretariat/proposals/<int:category_id>")
@rule_required(permissions.can_approve_decisions)
@keeps_input_on_csrf_failure
def answer(category_id: int):
    category = get_or_404(Category, category_id)
    edition = category.edition
    form = _answer_form(category, request.form)
    if form.validate_on_submit():
        try:
            if form.send_back.data:
                decisions.return_proposal(category, current_user, form.comment.data)
                message = _("The proposal is returned to the committee; we emailed them.")
            else:
                decisions.approve_proposal(category, current_user)
                message = _("The results of %(title)s are approved.", title=category.title)
            db.session.commit()
        except decisions.DecisionError as exc:
            db.session.rollback()
            if exc.field == "comment":
                form.comment.errors.append(str(exc))
            else:
                flash(str(exc), "danger")
        except StaleDataError:
            db.session.rollback()
            flash(
                _("Someone else changed this category meanwhile. Check it and try again."),
                "warning",
            )
        else:
            flash(message, "success")
            return redirect(url_for("decisions.proposals", edition_id=edition.id))
    return _render_proposals(edition, form, category.id), 400


# --- Exports -------------------------------------------------------------------------------


@bp.get("/secretariat/editions/<int:edition_id>/results.csv")
@rule_required(permissions.is_secretariat)
def results_csv(edition_id: int):
    edition = get_or_404(Edition, edition_id)
    header, rows = decisions.results_table(edition, STATE_LABELS)
    return download_response(
        exports.to_csv(header, rows), "text/csv; charset=utf-8", f"{edition.code}-results.csv"
    )


@bp.get("/secretariat/editions/<int:edition_id>/results.xlsx")
@rule_required(permissions.is_secretariat)
def results_xlsx(edition_id: int):
    edition = get_or_404(Edition, edition_id)
    header, rows = decisions.results_table(edition, STATE_LABELS)
    data = exports.to_xlsx(header, rows, title=_("Results"))
    return download_response(data, XLSX_TYPE, f"{edition.code}-results.xlsx")
