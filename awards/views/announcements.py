"""The announcement list: the public form, confirming, unsubscribing; the Secretariat's view."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from .. import announcements as rules
from .. import i18n, permissions
from ..accounts import AccountError
from ..errors import keeps_input_on_csrf_failure
from ..extensions import csrf, db, limiter
from ..forms import ConfirmForm
from ..forms_notices import SubscribeForm
from ..models import Edition
from ..tokens import TokenError
from .helpers import download_response, get_or_404, rule_required

bp = Blueprint("announcements", __name__)

# As for the other forms that send email to an address anyone can type.
SUBSCRIPTIONS_PER_ADDRESS = "10 per hour"

LINK_PROBLEMS = {
    "expired": _l("This link has expired. Enter your address again to receive a new one."),
    "used": _l("This link is no longer valid. Enter your address again to receive a new one."),
    "invalid": _l("This link is not valid. Check that you copied all of it."),
}


def _link_problem(error: TokenError):
    status = 404 if error.reason == "invalid" else 410
    message = str(LINK_PROBLEMS[error.reason])
    return render_template("announcements/link_problem.html", message=message), status


@bp.route("/announcements/", methods=["GET", "POST"])
@limiter.limit(SUBSCRIPTIONS_PER_ADDRESS, methods=["POST"])
@keeps_input_on_csrf_failure
def subscribe():
    form = SubscribeForm()
    if not form.is_submitted():
        form.language.data = i18n.select_locale() or "en"
    if form.validate_on_submit():
        try:
            rules.subscribe(form.email.data, form.language.data)
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            # The same page whether or not the address is known: it reveals nothing.
            return render_template("announcements/check_email.html", email=form.email.data)
    return render_template("announcements/subscribe.html", form=form)


@bp.route("/announcements/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    try:
        subscriber = rules.subscriber_to_confirm(token)
    except TokenError as error:
        return _link_problem(error)
    form = ConfirmForm()
    # Confirming takes a click, not just opening the link: mail scanners open links too.
    if form.validate_on_submit() or rules.is_listed(subscriber):
        newly = rules.confirm(subscriber)
        db.session.commit()
        return render_template("announcements/confirmed.html", email=subscriber.email, newly=newly)
    return render_template("announcements/confirm.html", email=subscriber.email, form=form)


@bp.get("/announcements/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """The link in the email's body: a page with a button, never an unsubscribe by itself
    (scanners open links; RFC 8058 says a GET must not unsubscribe)."""
    try:
        subscriber = rules.subscriber_to_unsubscribe(token)
    except TokenError as error:
        return _link_problem(error)
    return render_template(
        "announcements/unsubscribe.html",
        email=subscriber.email,
        gone=subscriber.unsubscribed_at is not None,
        form=ConfirmForm(),
        token=token,
    )


@bp.post("/announcements/unsubscribe/<token>")
# Exempt from CSRF on purpose: RFC 8058's one-click unsubscribe is a POST that the reader's
# mail client sends by itself, with the body "List-Unsubscribe=One-Click" and no token of
# ours. The signed token in the address is the authorisation, and leaving a mailing list is
# all that a forged request could do, which is what the link's owner asked for.
@csrf.exempt
def unsubscribe(token: str):
    try:
        subscriber = rules.subscriber_to_unsubscribe(token)
    except TokenError as error:
        return _link_problem(error)
    rules.unsubscribe(subscriber)
    db.session.commit()
    return render_template("announcements/unsubscribed.html", email=subscriber.email)


# --- The Secretariat -------------------------------------------------------------------------


@bp.get("/secretariat/announcements")
@rule_required(permissions.can_manage_announcements)
def overview():
    return render_template(
        "announcements/overview.html",
        counts=rules.counts(),
        editions=rules.editions_with_news(),
        form=ConfirmForm(),
    )


@bp.get("/secretariat/announcements/confirmed.csv")
@rule_required(permissions.can_manage_announcements)
def export_confirmed():
    return download_response(
        rules.confirmed_csv(), "text/csv; charset=utf-8", "announcement-list.csv"
    )


@bp.post("/secretariat/announcements/editions/<int:edition_id>/news")
@rule_required(permissions.can_manage_announcements)
def send_news(edition_id: int):
    edition = get_or_404(Edition, edition_id)
    if ConfirmForm().validate_on_submit():
        try:
            queued = rules.queue_news(edition, current_user._get_current_object())
        except rules.AnnouncementError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            if queued:
                flash(
                    ngettext(
                        "The news is queued to %(num)d reader.",
                        "The news is queued to %(num)d readers.",
                        queued,
                    ),
                    "success",
                )
            else:
                flash(_("Everyone on the list has already been sent this news."), "info")
    return redirect(url_for(".overview"))
