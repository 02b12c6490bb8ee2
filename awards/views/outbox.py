"""The Secretariat's outbox page: every email by state, each one rendered, retry and cancel."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from .. import outbox as rules
from .. import permissions
from ..extensions import db
from ..forms import ConfirmForm
from ..models import OutboxMessage, OutboxState
from ..security import allow_email_styles
from .helpers import OpenPage, get_or_404, page_number, rule_required

bp = Blueprint("outbox", __name__, url_prefix="/secretariat/outbox")

PER_PAGE = 50
STATES = [state.value for state in OutboxState]
# The states that ask for the Secretariat's attention are counted: few messages are in them
# at any time, read from the (state, id) index. Sent and cancelled messages only accumulate,
# and PostgreSQL counts them by reading them all (3.4 ms for 9,400 sent emails), so neither
# they nor the whole list (an OpenPage) are counted.
COUNTED = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.FAILED)

# An email's state in the outbox: its words and its badge's colour.
_OUTBOX_STATES = {
    "queued": (_l("Queued"), "secondary"),
    "sending": (_l("Being sent"), "info"),
    "sent": (_l("Sent"), "success"),
    "failed": (_l("Failed"), "danger"),
    "cancelled": (_l("Cancelled"), "dark"),
}


@bp.app_template_global()
def outbox_state_label(state) -> str:
    """An outbox state ("queued", or the enum member) in the reader's language."""
    return str(_OUTBOX_STATES[getattr(state, "value", state)][0])


@bp.app_template_global()
def outbox_state_badge(state) -> Markup:
    """An outbox state as a badge. A function, not a macro: the list shows fifty emails, and
    the macro translated all five labels for each of them."""
    label, style = _OUTBOX_STATES[getattr(state, "value", state)]
    return Markup('<span class="badge text-bg-%s">%s</span>') % (style, str(label))


@bp.get("/")
@rule_required(permissions.is_secretariat)
def index():
    state = request.args.get("state", "")
    if state not in STATES:
        state = ""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.state, func.count(OutboxMessage.id))
            .where(OutboxMessage.state.in_(COUNTED))
            .group_by(OutboxMessage.state)
        ).all()
    )
    oldest = request.args.get("order") == "oldest"
    recipient = " ".join(request.args.get("q", "").split())[:254].lower()
    # Newest first (ids only grow), as rows of the columns the list shows: the bodies stay
    # in the database until a message opens, and whole messages took longer to read.
    query = select(
        OutboxMessage.id,
        OutboxMessage.created_at,
        OutboxMessage.to_address,
        OutboxMessage.subject,
        OutboxMessage.template,
        OutboxMessage.state,
        OutboxMessage.attempts,
        OutboxMessage.next_attempt_at,
        OutboxMessage.last_error,
    ).order_by(OutboxMessage.id if oldest else OutboxMessage.id.desc())
    if state:
        query = query.where(OutboxMessage.state == OutboxState(state))
    if recipient:
        query = query.where(
            func.lower(OutboxMessage.to_address).contains(recipient, autoescape=True)
        )
    page = OpenPage(query, page_number(), PER_PAGE, rows=True)
    return render_template(
        "outbox/index.html",
        page=page,
        state=state,
        oldest=oldest,
        recipient=recipient,
        counts={
            value: counts.get(OutboxState(value), 0) if OutboxState(value) in COUNTED else None
            for value in STATES
        },
        form=ConfirmForm(),
    )


@bp.get("/<int:message_id>")
@rule_required(permissions.is_secretariat)
def message(message_id: int):
    message = get_or_404(OutboxMessage, message_id)
    page = make_response(
        render_template("outbox/message.html", message=message, form=ConfirmForm())
    )
    return allow_email_styles(page, message.body_html or "")


@bp.post("/<int:message_id>/retry")
@rule_required(permissions.is_secretariat)
def retry(message_id: int):
    return _act(message_id, rules.retry, _("The email is queued again and will be sent shortly."))


@bp.post("/<int:message_id>/cancel")
@rule_required(permissions.is_secretariat)
def cancel(message_id: int):
    return _act(message_id, rules.cancel, _("The email is cancelled; it will not be sent."))


def _act(message_id: int, action, done: str):
    message = get_or_404(OutboxMessage, message_id)
    if ConfirmForm().validate_on_submit():
        try:
            action(message, current_user)
        except rules.OutboxError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for("outbox.message", message_id=message_id))


@bp.post("/retry-failed")
@rule_required(permissions.is_secretariat)
def retry_failed():
    if ConfirmForm().validate_on_submit():
        retried = rules.retry_all_failed(current_user)
        db.session.commit()
        if retried:
            flash(
                ngettext(
                    "%(num)d failed email is queued again.",
                    "%(num)d failed emails are queued again.",
                    retried,
                ),
                "success",
            )
        else:
            flash(_("There was no failed email to retry."), "info")
    return redirect(url_for("outbox.index", state=OutboxState.QUEUED.value))
