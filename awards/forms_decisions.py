"""Forms of the decision pages: a proposal with its citation, and the Secretariat's answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .countries import country_choices
from .decisions import CITATION_MAX, COMMENT_MAX
from .forms import Form, options


def _kind_choices():
    return options(
        [
            ("winner", _l("Winner")),
            ("honourable_mention", _l("Honourable mention")),
        ]
    )


def _country_options():
    return options([("", _l("No country shown")), *country_choices()])


class ProposalForm(Form):
    kind = RadioField(
        _l("Proposed as"),
        choices=_kind_choices,
        validators=[InputRequired(message=_l("Choose winner or honourable mention."))],
    )
    rank = IntegerField(
        _l("Rank"),
        validators=[
            InputRequired(message=_l("Give the rank as a whole number, 1 for the first.")),
            NumberRange(1, 100, message=_l("Give a rank from 1 to 100.")),
        ],
        description=_l("1 for the first winner (or honourable mention), 2 for the second…"),
    )
    citation = TextAreaField(
        _l("Citation"),
        validators=[
            InputRequired(
                message=_l("Write the citation: it says publicly why the nominee is recognised.")
            ),
            Length(max=CITATION_MAX),
        ],
        description=_l(
            "Published with the results: why the nominee is recognised, in a few sentences. "
            "Markdown is allowed: *emphasis*, **bold**, lists and links."
        ),
    )
    public_name = StringField(
        _l("Public name"),
        validators=[
            InputRequired(message=_l("Give the name as it should appear in the announcement.")),
            Length(max=200),
        ],
        description=_l("As it should appear in the announcement and on the certificate."),
    )
    public_organisation = StringField(
        _l("Public organisation"), validators=[Optional(), Length(max=200)]
    )
    public_country = SelectField(_l("Public country"), choices=_country_options)
    submit = SubmitField(_l("Save the proposal"))


class ProposalAnswerForm(Form):
    """The Secretariat's answer to one category's proposal (prefixed per category)."""

    comment = TextAreaField(
        _l("Comment to the committee"),
        validators=[Optional(), Length(max=COMMENT_MAX)],
        description=_l("Required when you return the proposal: say what to change."),
    )
    approve = SubmitField(_l("Approve the results"))
    send_back = SubmitField(_l("Return to the committee"))
