"""Member administrators screen their category's nominations and export them."""

from __future__ import annotations

from collections.abc import Sequence

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import Row
from sqlalchemy.orm.exc import StaleDataError

from .. import exports, lifecycle, nominations, permissions, screening
from ..countries import country_name
from ..errors import keeps_input_on_csrf_failure
from ..extensions import db
from ..forms_screening import STATE_LABELS, NominationFilterForm, ScreeningForm
from ..i18n import LANGUAGES
from ..models import Category, Nomination, utcnow
from ..templating import (
    local_datetime_in,
    nomination_state_badge_in,
    reader_locale_zone,
    url_pattern,
)
from .helpers import (
    XLSX_TYPE,
    CountedPage,
    download_response,
    managed_category,
    page_number,
    require,
)

bp = Blueprint("screening", __name__, url_prefix="/manage/categories")

PER_PAGE = 50


def _nomination(category: Category, nomination_id: int) -> Nomination:
    nomination = screening.visible_nomination(category, nomination_id)
    if nomination is None:
        abort(404)
    return nomination


def nomination_table_rows(category: Category, rows: Sequence[Row]) -> Markup:
    """The nominations table's rows. Written here rather than as a loop in the template,
    which cost 35 µs a row (fifty rows, a third of the page); what people typed is escaped,
    dates, countries, languages and states are the reader's, found once for the table."""
    locale_name, zone = reader_locale_zone()
    nomination_url = url_pattern("screening.nomination", "nomination_id", category_id=category.id)
    no_value = "—"
    # Translated outside the f-strings, where pybabel finds the words.
    possible, no = escape(_("Possible duplicate")), escape(_("No"))
    duplicate = f'<span class="badge text-bg-warning border">{possible}</span>'
    not_duplicate = f'<span class="visually-hidden">{no}</span>'
    parts = []
    for row in rows:
        country = country_name(row.nominee_country, locale_name) or no_value
        parts.append(
            f'<tr><td><a href="{escape(nomination_url(row.id))}"><code>{escape(row.reference)}'
            f'</code></a></td><td dir="auto">{escape(row.nominee_name)}</td>'
            f'<td dir="auto">{escape(row.nominee_organisation or no_value)}</td>'
            f"<td>{escape(country)}</td>"
            f"<td>{escape(LANGUAGES.get(row.language, row.language))}</td>"
            f"<td>{escape(local_datetime_in(row.submitted_at, 'short', locale_name, zone))}</td>"
            f"<td>{nomination_state_badge_in(locale_name, row.state)}</td>"
            f"<td>{duplicate if row.possible_duplicate else not_duplicate}</td></tr>"
        )
    # Safe: every text above is escaped, or a badge made of escaped words.
    return Markup("".join(parts))  # noqa: S704  # nosec B704


@bp.get("/<int:category_id>/nominations")
@login_required
def nominations_table(category_id: int):
    category = managed_category(category_id)
    table = screening.TableQuery.from_args(request.args)
    form = NominationFilterForm(request.args)
    facets = screening.table_facets(category)
    form.set_choices(facets.countries)
    page = CountedPage(
        screening.table_query(category, table),
        page_number(),
        PER_PAGE,
        facets.total(table),
        rows=True,
    )
    return render_template(
        "screening/nominations.html",
        category=category,
        form=form,
        table=table,
        page=page,
        rows=nomination_table_rows(category, page.items),
        state_labels=STATE_LABELS,
    )


def _render_nomination(category: Category, nomination: Nomination, form: ScreeningForm):
    return render_template(
        "screening/nomination.html",
        category=category,
        nomination=nomination,
        values=nominations.answers_by_question(nomination),
        duplicates=screening.duplicates_of(nomination),
        form=form,
        screenable=nomination.state in screening.SCREENABLE_STATES,
        deadline=lifecycle.nomination_window(category)[1],
        now=utcnow(),
        state_labels=STATE_LABELS,
    )


@bp.get("/<int:category_id>/nominations/<int:nomination_id>")
@login_required
def nomination(category_id: int, nomination_id: int):
    category = managed_category(category_id)
    nomination = _nomination(category, nomination_id)
    form = ScreeningForm()
    if nomination.state.value in ("eligible", "ineligible"):
        form.decision.data = nomination.state.value
        form.reason.data = nomination.screening_reason
    return _render_nomination(category, nomination, form)


@bp.post("/<int:category_id>/nominations/<int:nomination_id>/screen")
@login_required
@keeps_input_on_csrf_failure
def screen(category_id: int, nomination_id: int):
    category = managed_category(category_id)
    nomination = _nomination(category, nomination_id)
    require(permissions.can_screen_nomination(current_user, nomination))
    form = ScreeningForm()
    if not form.validate_on_submit():
        return _render_nomination(category, nomination, form)
    eligible = form.decision.data == "eligible"
    try:
        screening.screen(nomination, eligible, form.reason.data, current_user)
        db.session.commit()
    except (screening.ScreeningError, lifecycle.TransitionError) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    except StaleDataError:
        db.session.rollback()
        flash(
            _("Someone else changed this nomination meanwhile. Check it and decide again."),
            "warning",
        )
    else:
        if eligible:
            flash(_("%(ref)s is marked eligible.", ref=nomination.reference), "success")
        else:
            flash(
                _(
                    "%(ref)s is marked not eligible; the nominator will be told why by email.",
                    ref=nomination.reference,
                ),
                "success",
            )
    return redirect(
        url_for("screening.nomination", category_id=category.id, nomination_id=nomination.id)
    )


# --- Exports -------------------------------------------------------------------------------


@bp.get("/<int:category_id>/nominations.csv")
@login_required
def export_csv(category_id: int):
    category = managed_category(category_id)
    data = exports.to_csv(screening.export_header(category), screening.export_rows(category))
    return download_response(
        data, "text/csv; charset=utf-8", screening.export_name(category, "nominations.csv")
    )


@bp.get("/<int:category_id>/nominations.xlsx")
@login_required
def export_xlsx(category_id: int):
    category = managed_category(category_id)
    data = exports.to_xlsx(screening.export_header(category), screening.export_rows(category))
    return download_response(data, XLSX_TYPE, screening.export_name(category, "nominations.xlsx"))


@bp.get("/<int:category_id>/attachments.zip")
@login_required
def export_attachments(category_id: int):
    category = managed_category(category_id)
    archive = exports.attachments_zip(screening.attachment_groups(category))
    archive.seek(0, 2)
    size = archive.tell()
    archive.seek(0)
    response = send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=screening.export_name(category, "attachments.zip"),
        max_age=0,
    )
    response.content_length = size
    response.headers["Cache-Control"] = "private, no-store"
    return response
