"""Member administrators: their organisation's people and committees, and invitations."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import accounts, permissions
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms import ConfirmForm, InviteForm, options, role_choices
from ..models import COMMITTEE_ROLES, Category, Edition, Organisation, Role, RoleGrant, User
from .helpers import get_or_404, require

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.get("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id: int):
    org = get_or_404(Organisation, organisation_id)
    require(permissions.is_secretariat(current_user) or permissions.administers(current_user, org))
    categories = list(
        db.session.execute(
            select(Category)
            .where(Category.organisation_id == org.id)
            .join(Edition)
            .order_by(Edition.year.desc(), Category.title)
            .options(db.contains_eager(Category.edition))
        ).scalars()
    )
    category_ids = [c.id for c in categories]
    admins = list(
        db.session.execute(
            select(RoleGrant)
            .join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.organisation_id == org.id, RoleGrant.role == Role.MEMBER_ADMIN)
            .order_by(User.name, User.id)
            .options(db.contains_eager(RoleGrant.user))
        ).scalars()
    )
    # Each committee as its size and its chairs: the members themselves are listed, searched
    # and removed on the committee's own page, a page at a time.
    sizes = dict(
        db.session.execute(
            select(RoleGrant.category_id, func.count())
            .where(
                RoleGrant.category_id.in_(category_ids),
                RoleGrant.role.in_([Role.REVIEWER, Role.CHAIR]),
            )
            .group_by(RoleGrant.category_id)
        ).all()
    )
    chairs: dict[int, list[User]] = {}
    for category_id, user in db.session.execute(
        select(RoleGrant.category_id, User)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.category_id.in_(category_ids), RoleGrant.role == Role.CHAIR)
        .order_by(User.name, User.id)
    ):
        chairs.setdefault(category_id, []).append(user)
    return render_template(
        "manage/organisation.html",
        org=org,
        categories=categories,
        admins=admins,
        sizes=sizes,
        chairs=chairs,
        revoke_form=ConfirmForm(),
    )


def _scope_options(user) -> tuple[list[Organisation], list[Category]]:
    """The organisations and categories this person may invite people into."""
    if permissions.is_secretariat(user):
        orgs = list(
            db.session.execute(select(Organisation).order_by(Organisation.short_name)).scalars()
        )
        cats = list(
            db.session.execute(
                select(Category).join(Edition).order_by(Edition.year.desc(), Category.title)
            ).scalars()
        )
        return orgs, cats
    orgs = permissions.administered_organisations(user)
    cats = (
        list(
            db.session.execute(
                select(Category)
                .where(Category.organisation_id.in_([o.id for o in orgs]))
                .join(Edition)
                .order_by(Edition.year.desc(), Category.title)
            ).scalars()
        )
        if orgs
        else []
    )
    return orgs, cats


@bp.route("/invite", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_failure
def invite():
    organisations, categories = _scope_options(current_user)
    secretariat = permissions.is_secretariat(current_user)
    require(secretariat or bool(organisations))
    form = InviteForm()
    form.role.choices = [
        c for c in role_choices() if secretariat or c.value != Role.SECRETARIAT.value
    ]
    form.organisation_id.choices = options(
        [(0, "—")] + [(o.id, f"{o.short_name} — {o.name}") for o in organisations]
    )
    form.category_id.choices = options(
        [(0, "—")] + [(c.id, f"{c.edition.code} — {c.title}") for c in categories]
    )
    if request.method == "GET":  # links from an organisation's page preselect the scope
        form.organisation_id.data = request.args.get("organisation", 0, type=int)
        form.category_id.data = request.args.get("category", 0, type=int)
        if form.category_id.data:
            form.role.data = Role.REVIEWER.value
        elif form.organisation_id.data:
            form.role.data = Role.MEMBER_ADMIN.value
    if form.validate_on_submit():
        role = Role(form.role.data)
        # Look the scope up as posted; the permission rule, not the offered list, decides.
        org = db.session.get(Organisation, form.organisation_id.data or 0)
        cat = db.session.get(Category, form.category_id.data or 0)
        scope = accounts.GrantScope(
            role=role,
            organisation=org if role is Role.MEMBER_ADMIN else None,
            category=cat if role in COMMITTEE_ROLES else None,
        )
        try:
            # An incomplete scope is a mistake to explain; a complete one not allowed is a 403.
            accounts.validate_scope(scope)
            if not permissions.can_invite(current_user, role, scope.organisation, scope.category):
                abort(403)
            invited = accounts.invite(form.email.data, form.name.data or "", scope, current_user)
        except accounts.AccountError as exc:
            field = {"name": form.name, "email": form.email}.get(exc.field)
            if field is None:  # the scope: the field that the role needs
                field = form.organisation_id if role is Role.MEMBER_ADMIN else form.category_id
            field.errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                _(
                    "%(email)s is now %(role)s; we emailed them.",
                    email=invited.email,
                    role=scope.describe(),
                ),
                "success",
            )
            target = scope.organisation or (scope.category.organisation if scope.category else None)
            if target is not None:
                return redirect(url_for("manage.organisation", organisation_id=target.id))
            return redirect(url_for("secretariat.user", user_id=invited.id))
    return render_template("manage/invite.html", form=form)


@bp.post("/grants/<int:grant_id>/remove")
@login_required
def remove_grant(grant_id: int):
    grant = get_or_404(RoleGrant, grant_id)
    require(
        grant.role is not Role.SECRETARIAT
        and permissions.can_invite(current_user, grant.role, grant.organisation, grant.category)
    )
    org = grant.organisation or grant.category.organisation
    seat_of = grant.category_id  # read before the grant is gone
    if ConfirmForm().validate_on_submit():
        if grant.user_id == current_user.id and grant.role is Role.MEMBER_ADMIN:
            flash(
                _("You cannot remove your own administrator role; ask the Secretariat."), "danger"
            )
        else:
            accounts.revoke_grant(grant, current_user)
            db.session.commit()
            flash(_("Role removed."), "success")
    if seat_of is not None:  # a committee seat: back to that committee
        return redirect(url_for("committee.members", category_id=seat_of))
    return redirect(url_for("manage.organisation", organisation_id=org.id))
