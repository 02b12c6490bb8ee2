"""The Secretariat's pages: organisations, editions, people and roles, the audit trail."""

from __future__ import annotations

import json
from collections.abc import Sequence

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import aliased

from .. import accounts, administration, exports, permissions
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import (
    EDITION_DATES,
    AuditFilterForm,
    ConfirmForm,
    EditionForm,
    OrganisationForm,
    UserSearchForm,
    UserStatusForm,
)
from ..models import AuditEvent, Category, Edition, Organisation, Role, RoleGrant, User, utcnow
from ..templating import role_label
from .helpers import (
    XLSX_TYPE,
    CountedPage,
    OpenPage,
    download_response,
    get_or_404,
    page_number,
    rule_required,
)

bp = Blueprint("secretariat", __name__, url_prefix="/secretariat")

PER_PAGE = 50
# The people list's sort orders, each backed by an index.
USER_SORTS = {
    "name": User.name,
    "email": User.email,
    "joined": User.created_at,
}
ROLE_LABELS = {
    Role.SECRETARIAT.value: _l("Secretariat"),
    Role.MEMBER_ADMIN.value: _l("Member administrator"),
    Role.CHAIR.value: _l("Committee chair"),
    Role.REVIEWER.value: _l("Committee reviewer"),
}


@bp.get("/")
@rule_required(permissions.is_secretariat)
def index():
    recent = db.session.execute(
        _shown_events(
            select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        ).limit(10)
    ).all()
    editions = db.session.execute(select(Edition).order_by(Edition.year.desc())).scalars()
    return render_template("secretariat/index.html", recent=recent, editions=list(editions))


# --- Organisations -----------------------------------------------------------------------


@bp.get("/organisations")
@rule_required(permissions.can_manage_organisations)
def organisations():
    rows = db.session.execute(
        select(Organisation).order_by(Organisation.kind, Organisation.short_name)
    ).scalars()
    return render_template("secretariat/organisations.html", organisations=list(rows))


@bp.route("/organisations/new", methods=["GET", "POST"], endpoint="new_organisation")
@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@rule_required(permissions.can_manage_organisations)
@keeps_input_on_csrf_failure
def edit_organisation(organisation_id: int | None = None):
    organisation = get_or_404(Organisation, organisation_id) if organisation_id else None
    form = OrganisationForm(obj=organisation if request.method == "GET" else None)
    if request.method == "GET" and organisation is not None:
        form.kind.data = organisation.kind.value
    if form.validate_on_submit():
        values = {
            "name": form.name.data,
            "short_name": form.short_name.data,
            "kind": form.kind.data,
            "mandate": form.mandate.data or "",
            "website": form.website.data or None,
        }
        try:
            administration.save_organisation(organisation, values, current_user)
        except administration.AdministrationError as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Organisation %(name)s saved.", name=values["short_name"]), "success")
            return redirect(url_for("secretariat.organisations"))
    return render_template(
        "secretariat/organisation_form.html", form=form, organisation=organisation
    )


# --- Editions ----------------------------------------------------------------------------


@bp.get("/editions")
@rule_required(permissions.can_manage_editions)
def editions():
    rows = db.session.execute(select(Edition).order_by(Edition.year.desc())).scalars()
    return render_template("secretariat/editions.html", editions=list(rows))


@bp.route("/editions/new", methods=["GET", "POST"], endpoint="new_edition")
@bp.route("/editions/<int:edition_id>/edit", methods=["GET", "POST"])
@rule_required(permissions.can_manage_editions)
@keeps_input_on_csrf_failure
def edit_edition(edition_id: int | None = None):
    edition = get_or_404(Edition, edition_id) if edition_id else None
    form = EditionForm(obj=edition if request.method == "GET" else None)
    if form.validate_on_submit():
        values = {
            field: getattr(form, field).data
            for field in ("name", "year", "code", "event_name", *EDITION_DATES)
        }
        values["event_venue"] = form.event_venue.data or ""
        try:
            administration.save_edition(edition, values, current_user)
        except administration.AdministrationError as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Edition %(name)s saved.", name=values["name"]), "success")
            return redirect(url_for("secretariat.editions"))
    return render_template("secretariat/edition_form.html", form=form, edition=edition)


# --- People ------------------------------------------------------------------------------


def _roles_of(people: Sequence[Row]) -> dict[int, list[str]]:
    """These people's roles as the people page names them, in one statement rather than one
    per person, read as the few columns it names them by."""
    roles: dict[int, list[str]] = {person.id: [] for person in people}
    if roles:
        query = (
            select(RoleGrant.user_id, RoleGrant.role, Organisation.name, Category.title)
            .outerjoin(Organisation, Organisation.id == RoleGrant.organisation_id)
            .outerjoin(Category, Category.id == RoleGrant.category_id)
            .where(RoleGrant.user_id.in_(list(roles)))
            .order_by(RoleGrant.id)
        )
        for user_id, role, organisation, category in db.session.execute(query):
            roles[user_id].append(role_label(role, organisation, category))
    return roles


@bp.get("/users")
@rule_required(permissions.can_manage_users)
def users():
    form = UserSearchForm(request.args)
    sort = request.args.get("sort", "name")
    sort = sort if sort in USER_SORTS else "name"
    descending = request.args.get("dir") == "desc"
    column = USER_SORTS[sort]
    # Rows of what the page shows of each person: whole rows took twice as long to read.
    query = select(
        User.id,
        User.name,
        User.email,
        User.created_at,
        User.is_active_account,
        User.password_hash.is_not(None).label("has_password"),
        User.email_verified_at.is_not(None).label("is_verified"),
    ).order_by(column.desc() if descending else column, User.id)
    role = request.args.get("role", "")
    if role in {r.value for r in Role}:
        query = query.where(User.grants.any(RoleGrant.role == Role(role)))
    if form.validate() and form.q.data:
        needle = form.q.data.lower()
        query = query.where(
            or_(
                User.email.contains(needle, autoescape=True),
                func.lower(User.name).contains(needle, autoescape=True),
            )
        )
    page = CountedPage(query, page_number(), PER_PAGE, rows=True)
    return render_template(
        "secretariat/users.html",
        form=form,
        page=page,
        roles_of=_roles_of(page.items),
        sort=sort,
        descending=descending,
        role=role if role in {r.value for r in Role} else "",
        roles=ROLE_LABELS,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@rule_required(permissions.can_manage_users)
def user(user_id: int):
    person = get_or_404(User, user_id)
    status_form = UserStatusForm()
    if request.method == "GET":
        status_form.active.data = person.is_active_account
    if status_form.validate_on_submit():
        try:
            administration.set_account_active(person, status_form.active.data, current_user)
        except administration.AdministrationError as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(_("Account saved."), "success")
        return redirect(url_for("secretariat.user", user_id=person.id))
    return render_template(
        "secretariat/user.html", person=person, status_form=status_form, revoke_form=ConfirmForm()
    )


@bp.post("/grants/<int:grant_id>/revoke")
@rule_required(permissions.can_manage_users)
def revoke_grant(grant_id: int):
    grant = get_or_404(RoleGrant, grant_id)
    person = grant.user
    if ConfirmForm().validate_on_submit():
        if grant.user_id == current_user.id and grant.role is Role.SECRETARIAT:
            flash(_("You cannot remove your own Secretariat role."), "danger")
        else:
            accounts.revoke_grant(grant, current_user)
            db.session.commit()
            flash(_("Role removed."), "success")
    return redirect(url_for("secretariat.user", user_id=person.id))


# --- Audit trail -------------------------------------------------------------------------


def _audit_query(form: AuditFilterForm, oldest: bool):
    """The audit events the filters select, in the order asked for (page and export alike)."""
    filters = form.data if form.validate() else {}
    query = select(AuditEvent)
    if oldest:
        query = query.order_by(AuditEvent.at, AuditEvent.id)
    else:
        query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if filters.get("action"):
        query = query.where(AuditEvent.action.startswith(filters["action"], autoescape=True))
    if filters.get("object_type"):
        query = query.where(AuditEvent.object_type == filters["object_type"])
    if filters.get("actor"):
        query = query.join(User, User.id == AuditEvent.actor_id).where(
            User.email.contains(filters["actor"].lower(), autoescape=True)
        )
    return query


AUDIT_EXPORT_LIMIT = 100_000
Actor = aliased(User)  # apart from the User joined by the "actor" filter


def _with_actor(query, *columns):
    """These columns of the events, where ``Actor`` is who acted (none for the system)."""
    return query.outerjoin(AuditEvent.actor.of_type(Actor)).with_only_columns(*columns)


def _shown_events(query):
    """The audit trail's table columns of these events, with who acted (whole events and
    people took twice as long to read)."""
    return _with_actor(
        query,
        AuditEvent.at,
        Actor.email.label("actor_email"),
        AuditEvent.action,
        AuditEvent.summary,
        AuditEvent.ip_address,
    )


@bp.get("/audit.<any(csv, xlsx):extension>")
@rule_required(permissions.can_view_audit)
def audit_export(extension: str):
    """The filtered audit trail as a spreadsheet, newest first unless asked otherwise."""
    form = AuditFilterForm(request.args)
    query = _with_actor(
        _audit_query(form, request.args.get("order") == "oldest"),
        AuditEvent.at,
        AuditEvent.action,
        AuditEvent.object_type,
        AuditEvent.object_id,
        AuditEvent.summary,
        Actor.email,
        AuditEvent.ip_address,
        AuditEvent.detail,
    ).limit(AUDIT_EXPORT_LIMIT)
    header = [
        _("Time (UTC)"),
        _("Action"),
        _("Object"),
        _("Object id"),
        _("Summary"),
        _("By"),
        _("Address"),
        _("Detail"),
    ]
    rows = [
        [
            at.strftime("%Y-%m-%d %H:%M:%S"),
            action,
            object_type,
            object_id,
            summary,
            email or "",
            address or "",
            json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        ]
        for at, action, object_type, object_id, summary, email, address, detail in (
            db.session.execute(query)
        )
    ]
    name = f"audit-{utcnow():%Y%m%d-%H%M}.{extension}"
    if extension == "csv":
        return download_response(exports.to_csv(header, rows), "text/csv; charset=utf-8", name)
    return download_response(exports.to_xlsx(header, rows, title="Audit"), XLSX_TYPE, name)


@bp.get("/audit")
@rule_required(permissions.can_view_audit)
def audit_log():
    form = AuditFilterForm(request.args)
    oldest = request.args.get("order") == "oldest"
    page = OpenPage(_shown_events(_audit_query(form, oldest)), page_number(), PER_PAGE, rows=True)
    return render_template("secretariat/audit.html", page=page, form=form, oldest=oldest)
