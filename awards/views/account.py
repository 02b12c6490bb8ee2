"""A signed-in person's own profile and password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from .. import accounts
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import ChangePasswordForm, ProfileForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def profile():
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                current_user, form.name.data, form.language.data, form.timezone.data
            )
        except accounts.AccountError as exc:
            getattr(form, exc.field, form.name).errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data)
        except accounts.AccountError as exc:
            getattr(form, exc.field, form.current).errors.append(str(exc))
        else:
            db.session.commit()
            # The nonce changed, so this session must be renewed to stay logged in here.
            login_user(current_user._get_current_object())
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("account/password.html", form=form)
