"""Forms of the notice editor and of the announcement list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from .forms import Form, ValidEmail, options
from .i18n import LANGUAGES
from .notices import BODY_MAX, SUBJECT_MAX


class NoticeForm(Form):
    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(), Length(max=SUBJECT_MAX)],
        description=_l("One line. Placeholders work here too."),
    )
    body = TextAreaField(
        _l("Body"),
        validators=[DataRequired(), Length(max=BODY_MAX)],
        description=_l(
            "Markdown: **bold**, *italic*, [a link](https://…), lists with “-”, headings with "
            "“##”. Each line break stays a line break. The plain-text part of the email is this "
            "text as written; the HTML part is it formatted, in the branded layout."
        ),
    )
    # Choices are the sample data and recent nominations; anything else falls back to samples.
    source = SelectField(_l("Preview with"), validate_choice=False)
    save = SubmitField(_l("Save"))
    preview = SubmitField(_l("Preview without saving"))


class TestSendForm(Form):
    source = HiddenField()
    submit = SubmitField(_l("Send a test to myself"))


class SubscribeForm(Form):
    email = EmailField(
        _l("Email address"), validators=[DataRequired(), Length(max=254), ValidEmail()]
    )
    language = SelectField(_l("Language of the emails"), choices=lambda: options(LANGUAGES.items()))
    submit = SubmitField(_l("Subscribe"))
