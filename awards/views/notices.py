"""The Secretariat's notice editor: every email, its wording per language, previews, tests."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import notices as rules
from .. import permissions
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import ConfirmForm
from ..forms_notices import NoticeForm, TestSendForm
from ..i18n import LANGUAGES
from ..security import allow_email_styles
from .helpers import rule_required

bp = Blueprint("notices", __name__, url_prefix="/secretariat/notices")


@bp.get("/")
@rule_required(permissions.can_edit_notices)
def index():
    return render_template(
        "notices/index.html",
        notices=rules.all_notices(),
        customised=rules.customised(),
        languages=LANGUAGES,
    )


def _notice(name: str, language: str) -> rules.Notice:
    if language not in LANGUAGES:
        abort(404)
    try:
        return rules.get_notice(name)
    except LookupError:
        abort(404)


def _sample(source: str | None) -> tuple[str, rules.Sample]:
    """The preview's data: a nomination (by id) or the sample values."""
    if source and source != "sample":
        nomination = None
        if source.isdigit() and len(source) < 12:
            nomination = rules.nomination_for_preview(int(source))
        if nomination is not None:
            return source, rules.from_nomination(nomination, current_user._get_current_object())
        flash(_("That nomination cannot be used for a preview; sample data are shown."), "warning")
    return "sample", rules.sample_data()


def _source_choices() -> list[tuple[str, str]]:
    return [
        ("sample", _("Sample data")),
        *(
            (str(nomination.id), f"{nomination.reference} — {nomination.nominee_name}")
            for nomination in rules.previewable_nominations()
        ),
    ]


@bp.route("/<name>/<language>", methods=["GET", "POST"])
@rule_required(permissions.can_edit_notices)
@keeps_input_on_csrf_failure
def edit(name: str, language: str):
    notice = _notice(name, language)
    saved = rules.wording(name, language)
    form = NoticeForm()
    form.source.choices = _source_choices()
    if request.method == "GET":
        form.source.data = request.args.get("source", "sample")
        if saved is not None:
            form.subject.data, form.body.data = saved.subject, saved.body
        else:
            form.subject.data, form.body.data = rules.starting_wording(notice, language)
    source, sample = _sample(form.source.data)
    form.source.data = source
    draft = None
    if form.validate_on_submit():
        try:
            if form.preview.data:
                rules.check_wording(notice, form.subject.data, form.body.data)
                draft = (form.subject.data, form.body.data)
            else:
                rules.save_wording(
                    notice,
                    language,
                    form.subject.data,
                    form.body.data,
                    current_user._get_current_object(),
                )
        except rules.NoticeError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(str(exc))
        else:
            if draft is None:
                try:
                    db.session.commit()
                except IntegrityError:
                    db.session.rollback()  # someone else saved the first wording at this moment
                    form.subject.errors.append(
                        _("Someone saved this notice at the same moment. Check it and save again.")
                    )
                else:
                    flash(
                        _(
                            "The wording of “%(notice)s” in %(language)s is saved.",
                            notice=notice.title,
                            language=LANGUAGES[language],
                        ),
                        "success",
                    )
                    return redirect(url_for(".edit", name=name, language=language, source=source))
    preview = rules.preview(notice, language, sample, draft)
    page = make_response(
        render_template(
            "notices/edit.html",
            notice=notice,
            language=language,
            languages=LANGUAGES,
            form=form,
            saved=rules.wording(name, language),
            preview=preview,
            draft=draft is not None,
            source=source,
            test_form=TestSendForm(source=source),
            reset_form=ConfirmForm(),
        )
    )
    return allow_email_styles(page, preview.html)


@bp.post("/<name>/<language>/test")
@rule_required(permissions.can_edit_notices)
def send_test(name: str, language: str):
    notice = _notice(name, language)
    form = TestSendForm()
    source = "sample"
    if form.validate_on_submit():
        source, sample = _sample(form.source.data)
        try:
            rules.send_test(notice, language, sample, current_user._get_current_object())
        except rules.NoticeError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(
                _(
                    "A test is queued to %(email)s; the outbox sends it shortly.",
                    email=current_user.email,
                ),
                "success",
            )
    return redirect(url_for(".edit", name=name, language=language, source=source))


@bp.post("/<name>/<language>/reset")
@rule_required(permissions.can_edit_notices)
def reset(name: str, language: str):
    notice = _notice(name, language)
    if ConfirmForm().validate_on_submit():
        if rules.reset_wording(notice, language, current_user._get_current_object()):
            db.session.commit()
            flash(_("Back to the shipped wording."), "success")
        else:
            flash(_("This notice already uses the shipped wording."), "info")
    return redirect(url_for(".edit", name=name, language=language))
