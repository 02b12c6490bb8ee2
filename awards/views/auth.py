"""Registration, log-in, email verification, password reset and invitations."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from .. import accounts, i18n, tokens
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db, limiter
from ..forms import (
    AcceptInvitationForm,
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    RegisterForm,
    ResendVerificationForm,
)
from ..safety import safe_next

bp = Blueprint("auth", __name__, url_prefix="/account")

# Failed log-ins slow an account down for a while; they never lock it for good, because the
# window moves on. Addresses are limited too, so one machine cannot try many accounts.
LOGIN_FAILURES_PER_ACCOUNT = "10 per 15 minutes"
LOGIN_ATTEMPTS_PER_ADDRESS = "50 per 15 minutes"
EMAIL_REQUESTS_PER_ADDRESS = "10 per hour"


def _account_key() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response) -> bool:
    return response.status_code == 200  # a failed log-in shows the form again


# Compared against when the address is unknown, so a wrong address takes as long as a wrong
# password and the timing does not tell which addresses have accounts.
_DUMMY_HASH = "scrypt:32768:8:1$6mZ0Z8dPbmJ4uQxk$" + "0" * 128

TOKEN_MESSAGES = {
    "expired": _l("This link has expired. Ask for a new one."),
    "used": _l("This link has already been used."),
    "invalid": _l("This link is not valid. Check that you copied all of it."),
}


def _token_message(error: tokens.TokenError) -> str:
    return str(TOKEN_MESSAGES[error.reason])


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(EMAIL_REQUESTS_PER_ADDRESS, methods=["POST"])
@keeps_input_on_csrf_failure
def register():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(
                form.email.data,
                form.name.data,
                form.password.data,
                language=i18n.select_locale(),
            )
        except accounts.AccountError as exc:
            getattr(form, exc.field, form.email).errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user)
            flash(
                _(
                    "Welcome! We sent a link to %(email)s to confirm your address.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for("dashboard.index"))
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_ATTEMPTS_PER_ADDRESS, methods=["POST"])
@limiter.limit(
    LOGIN_FAILURES_PER_ACCOUNT, methods=["POST"], key_func=_account_key, deduct_when=_failed
)
@keeps_input_on_csrf_failure
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data) or url_for("dashboard.index"))
    if form.validate_on_submit():
        user = accounts.user_by_email(form.email.data)
        if user is None:
            check_password_hash(_DUMMY_HASH, form.password.data)
        if user is not None and user.is_active and user.check_password(form.password.data):
            logout_user()  # a fresh session: nothing from before log-in carries over
            login_user(user, remember=form.remember.data)
            accounts.record_login(user)
            db.session.commit()
            return redirect(safe_next(form.next.data) or url_for("dashboard.index"))
        form.password.errors.append(_("The email address or the password is not correct."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect(url_for("public.index"))


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        user = accounts.verify_email(token)
    except tokens.TokenError as error:
        flash(_token_message(error), "danger" if error.reason != "used" else "info")
        return redirect(
            url_for("dashboard.index" if current_user.is_authenticated else "auth.login")
        )
    db.session.commit()
    flash(_("Thank you, your email address %(email)s is confirmed.", email=user.email), "success")
    return redirect(url_for("dashboard.index" if current_user.is_authenticated else "auth.login"))


@bp.post("/verify/resend")
@login_required
def resend_verification():
    form = ResendVerificationForm()
    if form.validate_on_submit() and not current_user.is_verified:
        accounts.send_verification(current_user)
        db.session.commit()
        flash(_("We sent a new link to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("dashboard.index"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(EMAIL_REQUESTS_PER_ADDRESS, methods=["POST"])
@keeps_input_on_csrf_failure
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        return render_template("auth/forgot_sent.html", email=form.email.data)
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@keeps_input_on_csrf_failure
def reset_password(token: str):
    try:
        tokens.user_for_token(token, tokens.RESET_PASSWORD)
    except tokens.TokenError as error:
        flash(_token_message(error), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(token, form.password.data)
        except accounts.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            logout_user()
            login_user(user)
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/reset.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@keeps_input_on_csrf_failure
def accept_invitation(token: str):
    try:
        invited = tokens.user_for_token(token, tokens.ACCEPT_INVITATION)
    except tokens.TokenError as error:
        if error.reason == "used":
            flash(
                _("This invitation has already been accepted. Log in with your password."), "info"
            )
            return redirect(url_for("auth.login"))
        flash(_token_message(error), "danger")
        return redirect(url_for("auth.forgot_password"))
    if invited.has_password:
        abort(404)  # cannot happen with a matching fingerprint; refuse rather than guess
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.name.data = invited.name
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(token, form.name.data, form.password.data)
        except accounts.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            logout_user()
            login_user(user)
            accounts.record_login(user)
            db.session.commit()
            flash(_("Welcome, %(name)s. Here is what you can do.", name=user.name), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/accept_invitation.html", form=form, invited=invited)
