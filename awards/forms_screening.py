"""Forms of the screening pages: the table's filters and the eligibility decision."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from . import nominations
from .countries import country_name
from .forms import Form, options
from .i18n import LANGUAGES
from .models import NominationState
from .screening import VISIBLE_STATES

# The states the table can filter by (drafts are never shown to administrators).
STATE_LABELS = {
    state.value: label
    for state, label in nominations.STATE_LABELS.items()
    if state is not NominationState.DRAFT
}


class NominationFilterForm(Form):
    """The table's filters, sent with GET; unknown values are ignored, not refused."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(
        _l("Reference, nominee or organisation contains"),
        validators=[Optional(), Length(max=200)],
    )
    state = SelectField(_l("State"), validate_choice=False)
    country = SelectField(_l("Nominee’s country"), validate_choice=False)
    language = SelectField(_l("Language"), validate_choice=False)
    duplicates = BooleanField(_l("Possible duplicates only"))

    def set_choices(self, countries: Sequence[str]) -> None:
        self.state.choices = options(
            [("", _l("Any state")), *((s.value, STATE_LABELS[s.value]) for s in VISIBLE_STATES)]
        )
        names = sorted(((code, country_name(code)) for code in countries), key=lambda p: p[1])
        self.country.choices = options([("", _l("Any country")), *names])
        self.language.choices = options([("", _l("Any language")), *LANGUAGES.items()])


class ScreeningForm(Form):
    decision = RadioField(
        _l("Decision"),
        choices=lambda: options(
            [
                ("eligible", _l("Eligible: the nomination goes on to the committee")),
                ("ineligible", _l("Not eligible: the nominator is told why by email")),
            ]
        ),
        validators=[InputRequired(message=_l("Choose eligible or not eligible."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Length(max=5000)],
        description=_l(
            "Required when the nomination is not eligible: the nominator receives it by email."
        ),
    )
    submit = SubmitField(_l("Record the decision"))

    def validate_reason(self, field) -> None:
        if self.decision.data == "ineligible" and not (field.data or "").strip():
            raise ValidationError(_l("Give the reason: the nominator receives it by email."))
