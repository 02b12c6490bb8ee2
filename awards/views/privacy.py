"""Personal data: a person's own download, and erasure by the Secretariat."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .. import permissions, privacy
from ..extensions import db
from ..forms import ConfirmForm, Form
from ..models import User, utcnow
from .helpers import get_or_404, require, rule_required

bp = Blueprint("privacy", __name__)


class EraseForm(Form):
    confirm_email = StringField(
        _l("Type the person’s email address to confirm"),
        validators=[DataRequired(_l("Type the email address shown above.")), Length(max=254)],
    )
    submit = SubmitField(_l("Erase personal data"))


# --- The person's own data -----------------------------------------------------------------


@bp.get("/account/data")
@login_required
def mine():
    person = current_user._get_current_object()
    require(permissions.can_download_personal_data(current_user, person))
    return render_template(
        "privacy/mine.html",
        form=ConfirmForm(),
        made=len(privacy.nominations_made(person)),
        about=len(privacy.nominations_by_others(person)),
    )


@bp.post("/account/data/download")
@login_required
def download():
    person = current_user._get_current_object()
    require(permissions.can_download_personal_data(current_user, person))
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("privacy.mine"))
    archive = privacy.export_zip(person)
    privacy.record_export(person)
    db.session.commit()
    response = send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"e-waste-awards-personal-data-{utcnow():%Y-%m-%d}.zip",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Erasure by the Secretariat ------------------------------------------------------------


@bp.route("/secretariat/users/<int:user_id>/erase", methods=["GET", "POST"])
@rule_required(permissions.can_erase_personal_data)
def erase(user_id: int):
    person = get_or_404(User, user_id)
    actor = current_user._get_current_object()
    plan = privacy.erasure_plan(person, actor)
    form = EraseForm()
    status = 200
    if request.method == "POST" and plan.allowed and form.validate_on_submit():
        if (form.confirm_email.data or "").lower() != person.email.lower():
            form.confirm_email.errors.append(
                _("This is not the person’s address: nothing was erased.")
            )
            status = 400
        else:
            try:
                erasure = privacy.erase_person(person, actor)
            except privacy.PrivacyError as exc:
                db.session.rollback()
                plan.blockers = exc.reasons
                status = 409
            else:
                db.session.commit()
                privacy.remove_files(erasure)
                flash(
                    ngettext(
                        "Personal data erased, with %(num)d nomination.",
                        "Personal data erased, with %(num)d nominations.",
                        len(erasure.nominations),
                    ),
                    "success",
                )
                return redirect(url_for("secretariat.user", user_id=person.id))
    elif request.method == "POST":
        status = 409 if not plan.allowed else 400
    return render_template("privacy/erase.html", person=person, plan=plan, form=form), status
