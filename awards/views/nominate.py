"""The nominator's journey: start, fill with drafts, upload, review, submit, edit, withdraw."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from .. import lifecycle, nominations, permissions, uploads
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import ConfirmForm, NominationForm, StartNominationForm
from ..i18n import LANGUAGES
from ..models import Attachment, Category, Edition, Nomination, QuestionKind
from .helpers import get_or_404, page_number

bp = Blueprint("nominate", __name__, url_prefix="/nominations")

PER_PAGE = 50


def _own_nomination(nomination_id: int) -> Nomination:
    """The nomination if this person may see it; 404 otherwise, so ids reveal nothing."""
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None or not permissions.can_see_nomination(current_user, nomination):
        abort(404)
    return nomination


def _editable_nomination(nomination_id: int) -> Nomination:
    """The nomination if this person may change it now.

    Someone who cannot see it gets 404; its nominator, once it can no longer be changed, is
    sent back to it with the reason; anyone else who can see it (an administrator) gets 403.
    """
    nomination = _own_nomination(nomination_id)
    if permissions.can_edit_nomination(current_user, nomination):
        return nomination
    if permissions.is_nominator(current_user, nomination):
        flash(
            _("%(ref)s is no longer a draft, so it cannot be changed.", ref=nomination.reference),
            "warning",
        )
        abort(redirect(url_for("nominate.view", nomination_id=nomination.id)))
    abort(403)


def _nominee_from(form) -> nominations.Nominee:
    return nominations.Nominee(
        self_nomination=form.self_nomination.data != "other",
        name=form.nominee_name.data or "",
        organisation=form.nominee_organisation.data or "",
        country=form.nominee_country.data or None,
        email=form.nominee_email.data or None,
    )


def _attach_problems(form, problems: dict[str, str]) -> dict[str, str]:
    """Put nominee problems on the form's fields; return those for the questions."""
    rest = {}
    for key, message in problems.items():
        field = getattr(form, key, None)
        if field is not None and hasattr(field, "errors"):
            if not field.errors:  # one message per field is enough
                field.errors = [message]
        else:
            rest[key] = message
    return rest


@bp.route("/new/<int:category_id>", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def start(category_id: int):
    category = get_or_404(Category, category_id)
    if not lifecycle.accepting_nominations(category):
        abort(404)
    form = StartNominationForm()
    if request.method == "GET":
        form.language.data = current_user.language if current_user.language in LANGUAGES else "en"
        form.self_nomination.data = request.args.get("for", "self")
    if form.validate_on_submit():
        problems = _attach_problems(form, nominations.check_nominee(_nominee_from(form)))
        if not problems and not any(f.errors for f in form):
            try:
                nomination = nominations.start(
                    category, current_user, _nominee_from(form), form.language.data
                )
            except nominations.NominationError as exc:
                flash(str(exc), "danger")
            else:
                db.session.commit()
                flash(
                    _(
                        "Your draft %(ref)s is saved. Fill in the form at your own pace.",
                        ref=nomination.reference,
                    ),
                    "success",
                )
                return redirect(url_for("nominate.edit", nomination_id=nomination.id))
    return render_template("nominate/start.html", form=form, category=category)


def _raw_answers(nomination: Nomination) -> dict[int, Any]:
    raw: dict[int, Any] = {}
    for question in nomination.category.questions:
        name = f"q-{question.id}"
        if question.kind is QuestionKind.MULTIPLE_CHOICE:
            raw[question.id] = request.form.getlist(name)
        else:
            raw[question.id] = request.form.get(name)
    return raw


def _save_uploads(nomination: Nomination) -> dict[str, str]:
    problems: dict[str, str] = {}
    for question in nomination.category.questions:
        if question.kind is not QuestionKind.FILE:
            continue
        for storage in request.files.getlist(f"q-{question.id}"):
            if not storage or not storage.filename:
                continue
            try:
                uploads.save_upload(nomination, question, storage, current_user)
            except uploads.UploadError as exc:
                problems[f"q-{question.id}"] = str(exc)
    return problems


@bp.route("/<int:nomination_id>/edit", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def edit(nomination_id: int):
    nomination = _editable_nomination(nomination_id)
    form = NominationForm(obj=nomination if request.method == "GET" else None)
    values = nominations.answers_by_question(nomination)
    question_problems: dict[str, str] = {}
    try:
        nominations.ensure_editable(nomination)
    except nominations.NominationError as exc:
        flash(str(exc), "danger")
        if request.method == "GET":
            return redirect(url_for("nominate.view", nomination_id=nomination.id))
        # The deadline passed while the form was open: show what was typed, save nothing,
        # so the nominator can still copy their text.
        return render_template(
            "nominate/edit.html",
            form=form,
            nomination=nomination,
            values=_raw_answers(nomination),
            problems={},
            remove_form=ConfirmForm(),
            closed=True,
        ), 409
    if request.method == "GET":
        form.self_nomination.data = "self" if nomination.self_nomination else "other"
        form.version.data = nomination.version
    elif request.method == "POST" and (form.validate() or not form.csrf_token.errors):
        # Saving never loses what was typed: even with errors, a draft keeps every answer.
        # (After a CSRF failure the token is in error and nothing is saved.)
        values = _raw_answers(nomination)
        try:
            nominations.check_version(nomination, form.version.data)
        except nominations.StaleNomination as exc:
            flash(str(exc), "danger")
            form.version.data = nomination.version  # saving again now keeps this text
            return render_template(
                "nominate/edit.html",
                form=form,
                nomination=nomination,
                values=values,
                problems={},
                remove_form=ConfirmForm(),
            ), 409
        try:
            problems = nominations.save(
                nomination,
                _nominee_from(form),
                values,
                current_user,
                form.language.data,
                topics=request.form.getlist("topics"),
            )
        except nominations.NominationError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("nominate.view", nomination_id=nomination.id))
        problems.update(_save_uploads(nomination))
        db.session.commit()
        question_problems = _attach_problems(form, problems)
        if not problems and not any(f.errors for f in form):
            if form.review.data:
                return redirect(url_for("nominate.view", nomination_id=nomination.id))
            flash(_("Saved."), "success")
            return redirect(url_for("nominate.edit", nomination_id=nomination.id))
        form.version.data = nomination.version  # the page shows what is now stored
        if nomination.state.value == "draft":
            flash(
                _("Your draft is saved. Some answers need attention before you can submit."),
                "warning",
            )
        else:
            flash(_("Nothing was changed: a submitted nomination must stay complete."), "danger")
    return render_template(
        "nominate/edit.html",
        form=form,
        nomination=nomination,
        values=values,
        problems=question_problems,
        remove_form=ConfirmForm(),
    )


@bp.get("/<int:nomination_id>")
@login_required
def view(nomination_id: int):
    nomination = _own_nomination(nomination_id)
    problems = (
        nominations.submission_problems(nomination) if nomination.state.value == "draft" else {}
    )
    return render_template(
        "nominate/view.html",
        nomination=nomination,
        values=nominations.answers_by_question(nomination),
        problems=problems,
        deadline=lifecycle.nomination_window(nomination.category)[1],
        deadline_passed=nominations.deadline_passed(nomination),
        action_form=ConfirmForm(),
        state=nominations.state_shown_to_nominator(nomination),
    )


@bp.post("/<int:nomination_id>/submit")
@login_required
def submit(nomination_id: int):
    nomination = _editable_nomination(nomination_id)
    if ConfirmForm().validate_on_submit():
        try:
            nominations.submit(nomination, current_user)
        except nominations.NominationError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(
                _(
                    "Thank you. %(ref)s is submitted; a receipt is on its way to %(email)s.",
                    ref=nomination.reference,
                    email=current_user.email,
                ),
                "success",
            )
    return redirect(url_for("nominate.view", nomination_id=nomination.id))


@bp.post("/<int:nomination_id>/withdraw")
@login_required
def withdraw(nomination_id: int):
    nomination = _editable_nomination(nomination_id)
    if ConfirmForm().validate_on_submit():
        try:
            nominations.withdraw(nomination, current_user)
        except nominations.NominationError as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(_("%(ref)s is withdrawn.", ref=nomination.reference), "info")
    return redirect(url_for("nominate.view", nomination_id=nomination.id))


@bp.post("/<int:nomination_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(nomination_id: int, attachment_id: int):
    nomination = _own_nomination(nomination_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.nomination_id != nomination.id:
        abort(404)
    nomination = _editable_nomination(nomination_id)
    if ConfirmForm().validate_on_submit():
        try:
            nominations.ensure_editable(nomination)
        except nominations.NominationError as exc:
            flash(str(exc), "danger")
        else:
            nominations.remove_attachment(attachment, current_user)
            db.session.commit()
            flash(_("“%(name)s” is removed.", name=attachment.original_filename), "info")
    return redirect(url_for("nominate.edit", nomination_id=nomination.id))


@bp.get("/<int:nomination_id>/attachments/<int:attachment_id>")
@login_required
def download(nomination_id: int, attachment_id: int):
    attachment = db.session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.nomination_id != nomination_id
        or not permissions.can_see_attachment(current_user, attachment)
    ):
        abort(404)
    path = uploads.stored_path(attachment)
    if not path.exists():
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/")
@login_required
def mine():
    query = (
        select(Nomination)
        .where(Nomination.nominator_id == current_user.id)
        .join(Category)
        .join(Edition)
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
        .options(contains_eager(Nomination.category).contains_eager(Category.edition))
    )
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("nominate/mine.html", nominations=page.items, page=page)
