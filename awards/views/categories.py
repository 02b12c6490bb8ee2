"""Member administrators build their category: details, nomination form, rubric, approval."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import categories as rules
from .. import permissions
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import ConfirmForm, StartNominationForm, options
from ..forms_categories import (
    ApprovalForm,
    CategoryForm,
    CriterionForm,
    NewCategoryForm,
    QuestionForm,
)
from ..models import (
    Category,
    CategoryState,
    Criterion,
    Edition,
    Organisation,
    Question,
    QuestionKind,
)
from ..questions import KIND_LABELS
from .helpers import get_or_404, managed_category, require, rule_required

bp = Blueprint("categories", __name__, url_prefix="/manage/categories")

MOVES = {"up": -1, "down": 1}


def _question(category: Category, question_id: int) -> Question:
    question = get_or_404(Question, question_id)
    if question.category_id != category.id:
        abort(404)
    return question


def _criterion(category: Category, criterion_id: int) -> Criterion:
    criterion = get_or_404(Criterion, criterion_id)
    if criterion.category_id != category.id:
        abort(404)
    return criterion


def _show_error(form, exc: rules.CategoryError) -> None:
    """Put a refusal beside its field, or at the top of the page when it concerns none."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "danger")


def _done(message: str, endpoint: str, category: Category):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(endpoint, category_id=category.id))


# --- Creating and describing a category ----------------------------------------------------


def _open_editions(organisation: Organisation) -> list[Edition]:
    """Editions in which the organisation may still define its category."""
    editions = db.session.execute(select(Edition).order_by(Edition.year.desc())).scalars()
    return [e for e in editions if rules.can_start_category(organisation, e) is None]


@bp.route("/new/<int:organisation_id>", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def new(organisation_id: int):
    organisation = get_or_404(Organisation, organisation_id)
    require(permissions.can_create_category(current_user, organisation))
    editions = _open_editions(organisation)
    form = NewCategoryForm()
    form.edition_id.choices = options((e.id, e.name) for e in editions)
    if request.method == "GET":
        form.edition_id.data = request.args.get("edition", type=int)
    if editions and form.validate_on_submit():
        edition = db.session.get(Edition, form.edition_id.data)
        try:
            category = rules.create_category(edition, organisation, form.values(), current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            return _done(
                _("Category created. Now build its nomination form and rubric."),
                "categories.overview",
                category,
            )
    return render_template(
        "categories/new.html", form=form, organisation=organisation, editions=editions
    )


@bp.get("/<int:category_id>")
@login_required
def overview(category_id: int):
    category = managed_category(category_id)
    return render_template(
        "categories/overview.html",
        category=category,
        missing=rules.missing_for_approval(category),
        returned=rules.last_return_comment(category),
        locked=rules.form_locked(category),
        structure_problem=rules.structure_problem(category),
        review_start_problem=rules.review_start_problem(category),
        kind_labels=KIND_LABELS,
        button=ConfirmForm(),
    )


@bp.route("/<int:category_id>/edit", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def edit(category_id: int):
    category = managed_category(category_id)
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changed = rules.update_category(category, form.values(), current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            message = _("Details saved.") if changed else _("Nothing changed.")
            return _done(message, "categories.overview", category)
    return render_template(
        "categories/edit.html",
        form=form,
        category=category,
        structure_problem=rules.structure_problem(category),
    )


# --- The nomination form -------------------------------------------------------------------


@bp.get("/<int:category_id>/form")
@login_required
def form_builder(category_id: int):
    category = managed_category(category_id)
    return render_template(
        "categories/form_builder.html",
        category=category,
        kind_labels=KIND_LABELS,
        locked=rules.form_locked(category),
        structure_problem=rules.structure_problem(category),
        button=ConfirmForm(),
    )


def _question_page(category: Category, form: QuestionForm, kind: QuestionKind, question=None):
    return render_template(
        "categories/question.html",
        category=category,
        question=question,
        form=form,
        kind=kind,
        kind_label=KIND_LABELS[kind],
        option_fields=rules.OPTION_FIELDS.get(kind, ()),
        locked=rules.form_locked(category),
        structure_problem=rules.structure_problem(category),
    )


@bp.route("/<int:category_id>/questions/new", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def new_question(category_id: int):
    category = managed_category(category_id)
    kind = request.args.get("kind", "")
    if not kind:  # the builder lists the kinds to choose from
        return redirect(url_for("categories.form_builder", category_id=category.id))
    try:
        question_kind = QuestionKind(kind)
    except ValueError:
        abort(404)
    form = QuestionForm()
    form.kind.data = question_kind.value  # the address says which kind; no field to post
    if form.validate_on_submit():
        try:
            rules.add_question(category, form.values(question_kind), current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            return _done(_("Question added."), "categories.form_builder", category)
    return _question_page(category, form, question_kind)


@bp.route("/<int:category_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def edit_question(category_id: int, question_id: int):
    category = managed_category(category_id)
    question = _question(category, question_id)
    form = QuestionForm(obj=question if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = question.kind.value
        form.fill_options(question.options or {})
    # Settings follow the kind chosen: after a change of kind, its own settings are shown.
    kind = QuestionKind(form.kind.data) if form.kind.data in set(QuestionKind) else question.kind
    if form.validate_on_submit():
        try:
            changed = rules.update_question(question, form.values(kind), current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            message = _("Question saved.") if changed else _("Nothing changed.")
            return _done(message, "categories.form_builder", category)
    return _question_page(category, form, kind, question)


@bp.route("/<int:category_id>/questions/<int:question_id>/remove", methods=["GET", "POST"])
@login_required
def remove_question(category_id: int, question_id: int):
    category = managed_category(category_id)
    question = _question(category, question_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            rules.remove_question(question, current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("categories.form_builder", category_id=category.id))
        return _done(_("Question removed."), "categories.form_builder", category)
    return render_template(
        "categories/remove.html",
        category=category,
        form=form,
        what=_("the question “%(label)s”", label=question.label),
        back=url_for("categories.form_builder", category_id=category.id),
    )


@bp.post("/<int:category_id>/questions/<int:question_id>/move/<direction>")
@login_required
def move_question(category_id: int, question_id: int, direction: str):
    category = managed_category(category_id)
    question = _question(category, question_id)
    if direction not in MOVES:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            rules.move_question(question, MOVES[direction], current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
    return redirect(
        url_for("categories.form_builder", category_id=category.id) + f"#question-{question.id}"
    )


@bp.get("/<int:category_id>/preview")
@login_required
def preview(category_id: int):
    category = managed_category(category_id)
    return render_template(
        "categories/preview.html",
        category=category,
        nominee_form=StartNominationForm(formdata=None),
    )


# --- The rubric ----------------------------------------------------------------------------


@bp.get("/<int:category_id>/rubric")
@login_required
def rubric(category_id: int):
    category = managed_category(category_id)
    total = sum(c.weight for c in category.criteria)
    return render_template(
        "categories/rubric.html",
        category=category,
        total_weight=total,
        locked=rules.form_locked(category),
        structure_problem=rules.structure_problem(category),
        button=ConfirmForm(),
    )


def _criterion_page(category: Category, form: CriterionForm, criterion=None):
    return render_template(
        "categories/criterion.html",
        category=category,
        criterion=criterion,
        form=form,
        locked=rules.form_locked(category),
        structure_problem=rules.structure_problem(category),
    )


@bp.route("/<int:category_id>/criteria/new", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def new_criterion(category_id: int):
    category = managed_category(category_id)
    form = CriterionForm()
    if form.validate_on_submit():
        try:
            rules.add_criterion(category, form.values(), current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            return _done(_("Criterion added."), "categories.rubric", category)
    return _criterion_page(category, form)


@bp.route("/<int:category_id>/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def edit_criterion(category_id: int, criterion_id: int):
    category = managed_category(category_id)
    criterion = _criterion(category, criterion_id)
    form = CriterionForm(obj=criterion if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changed = rules.update_criterion(criterion, form.values(), current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            message = _("Criterion saved.") if changed else _("Nothing changed.")
            return _done(message, "categories.rubric", category)
    return _criterion_page(category, form, criterion)


@bp.route("/<int:category_id>/criteria/<int:criterion_id>/remove", methods=["GET", "POST"])
@login_required
def remove_criterion(category_id: int, criterion_id: int):
    category = managed_category(category_id)
    criterion = _criterion(category, criterion_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            rules.remove_criterion(criterion, current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("categories.rubric", category_id=category.id))
        return _done(_("Criterion removed."), "categories.rubric", category)
    return render_template(
        "categories/remove.html",
        category=category,
        form=form,
        what=_("the criterion “%(title)s”", title=criterion.title),
        back=url_for("categories.rubric", category_id=category.id),
    )


@bp.post("/<int:category_id>/criteria/<int:criterion_id>/move/<direction>")
@login_required
def move_criterion(category_id: int, criterion_id: int, direction: str):
    category = managed_category(category_id)
    criterion = _criterion(category, criterion_id)
    if direction not in MOVES:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            rules.move_criterion(criterion, MOVES[direction], current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
    return redirect(
        url_for("categories.rubric", category_id=category.id) + f"#criterion-{criterion.id}"
    )


# --- Approval ------------------------------------------------------------------------------


@bp.post("/<int:category_id>/submit")
@login_required
def submit(category_id: int):
    category = managed_category(category_id)
    if ConfirmForm().validate_on_submit():
        try:
            rules.submit_for_approval(category, current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            return _done(
                _("Submitted. The Secretariat will review the category and tell you."),
                "categories.overview",
                category,
            )
    return redirect(url_for("categories.overview", category_id=category.id))


@bp.post("/<int:category_id>/take-back")
@login_required
def take_back(category_id: int):
    category = managed_category(category_id)
    if ConfirmForm().validate_on_submit():
        try:
            rules.take_back(category, current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            return _done(
                _("The category is a draft again. Submit it when it is ready."),
                "categories.overview",
                category,
            )
    return redirect(url_for("categories.overview", category_id=category.id))


@bp.post("/<int:category_id>/start-review")
@login_required
def start_review(category_id: int):
    category = managed_category(category_id)
    if ConfirmForm().validate_on_submit():
        try:
            rules.start_review(category, current_user)
        except rules.CategoryError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            return _done(
                _("The review has started: assign the committee, then reviewers can score."),
                "committee.assignments",
                category,
            )
    return redirect(url_for("categories.overview", category_id=category.id))


@bp.get("/approvals")
@rule_required(permissions.is_secretariat)
def approvals():
    return render_template("categories/approvals.html", categories=rules.awaiting_approval())


@bp.route("/<int:category_id>/approval", methods=["GET", "POST"])
@rule_required(permissions.is_secretariat)
@keeps_input_on_csrf_failure
def approval(category_id: int):
    category = get_or_404(Category, category_id)
    form = ApprovalForm()
    if category.state is not CategoryState.AWAITING_APPROVAL and request.method == "GET":
        flash(_("This category is not awaiting approval."), "info")
        return redirect(url_for("categories.overview", category_id=category.id))
    if form.validate_on_submit():
        try:
            if form.send_back.data:
                rules.return_to_draft(category, current_user, form.comment.data or "")
                message = _("Category returned to its administrators; we emailed them.")
            else:
                rules.approve(category, current_user, form.comment.data or "")
                message = _("Category approved and open; we emailed its administrators.")
        except rules.CategoryError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("categories.approvals"))
    return render_template(
        "categories/approval.html",
        category=category,
        form=form,
        missing=rules.missing_for_approval(category),
        kind_labels=KIND_LABELS,
    )
