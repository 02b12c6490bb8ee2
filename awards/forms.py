"""Forms with CSRF protection. Every POST of the product goes through one of these."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from babel import Locale, support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import (
    URL,
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from .accounts import AccountError, normalise_email, password_problem
from .i18n import LANGUAGES, timezone_choices
from .models import OrganisationKind, Role


class Form(FlaskForm):
    """Base form: strips surrounding spaces and refuses null bytes in every text field."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if unbound_field.field_class in (StringField, TextAreaField, EmailField, URLField):
                filters = [_strip, *filters]
            default_widget = getattr(unbound_field.field_class, "widget", None)
            if type(default_widget) is widgets.Select and "widget" not in unbound_field.kwargs:
                options = {**options, "widget": OptionsSelect(multiple=default_widget.multiple)}
            return unbound_field.bind(form=form, filters=filters, **options)

        def get_translations(self, form):
            # WTForms' own messages ("Not a valid choice.") in the reader's language, from a
            # catalogue read once per language: Flask-WTF read it from disk again on every
            # request that built a form, and every page builds one (the language chooser).
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_catalogue(str(get_locale() or "en"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and "\x00" in field.data:
                field.errors = [*field.errors, str(_l("This field contains a null character."))]
                ok = False
        return ok


class OptionsSelect(widgets.Select):
    """WTForms' select, writing each plain option with one format string: its own builds,
    sorts and escapes a dictionary of attributes per option, a millisecond for a list of
    countries. The HTML is the same, attributes in the same order."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        # Both values are escaped above and here.
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')  # noqa: S704


@cache
def _wtforms_catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [Locale.parse(locale)], domain="wtforms")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ValidEmail:
    """Checks and normalises an email address with the same rules as the account code."""

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalise_email(field.data)
        except AccountError as exc:
            raise ValidationError(str(exc)) from exc


class StrongPassword:
    def __call__(self, form, field) -> None:
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def _language_choices() -> list[SelectChoice]:
    return options(LANGUAGES.items())


class RegisterForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("Email address"), validators=[DataRequired(), Length(max=254), ValidEmail()]
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), StrongPassword()],
        description=_l("At least 10 characters. A few unrelated words make a strong password."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Create account"))


class LoginForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class ForgotPasswordForm(Form):
    email = EmailField(
        _l("Email address"), validators=[DataRequired(), Length(max=254), ValidEmail()]
    )
    submit = SubmitField(_l("Send me a link"))


class NewPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), StrongPassword()],
        description=_l("At least 10 characters."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Set password and continue"))


class ChangePasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), StrongPassword()],
        description=_l("At least 10 characters. Other devices will be logged out."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class ProfileForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Preferred language"), choices=_language_choices)
    timezone = SelectField(
        _l("Time zone"),
        choices=lambda: options((zone, zone) for zone in timezone_choices()),
        description=_l("Dates and deadlines are shown in this time zone."),
    )
    submit = SubmitField(_l("Save profile"))


class ResendVerificationForm(Form):
    submit = SubmitField(_l("Send the verification email again"))


class LanguageForm(Form):
    language = SelectField(_l("Language"), choices=_language_choices)
    return_to = HiddenField()
    submit = SubmitField(_l("Change language"))


class ConfirmForm(Form):
    """A button that changes something: carries only the CSRF token."""

    submit = SubmitField(_l("Confirm"))


# --- Secretariat ------------------------------------------------------------------------


class OrganisationForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    short_name = StringField(
        _l("Short name"),
        validators=[
            DataRequired(),
            Length(min=2, max=16),
            Regexp(r"^[A-Za-z0-9]+$", message=_l("Use letters and digits only, for example ITU.")),
        ],
        filters=[lambda value: value.upper() if isinstance(value, str) else value],
        description=_l("Appears in nomination references, for example EWA27-ITU-0042."),
    )
    kind = SelectField(
        _l("Kind"),
        choices=options(
            [
                (OrganisationKind.MEMBER.value, _l("Coalition member")),
                (OrganisationKind.PARTNER.value, _l("Partner")),
                (OrganisationKind.SECRETARIAT.value, _l("Secretariat")),
            ]
        ),
    )
    mandate = TextAreaField(
        _l("Mandate"),
        validators=[Optional(), Length(max=5000)],
        description=_l("What the organisation works on; awards relate to it."),
    )
    website = URLField(
        _l("Website"),
        validators=[
            Optional(),
            Length(max=300),
            URL(message=_l("Enter a full address starting with https://.")),
        ],
    )
    submit = SubmitField(_l("Save organisation"))


class UtcDateTimeField(DateTimeLocalField):
    """A date and time typed in UTC; the value carries the UTC zone."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%dT%H:%M", **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, datetime):
            self.data = self.data.replace(tzinfo=UTC)

    def _value(self):
        if isinstance(self.data, datetime):
            return self.data.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        return super()._value()


EDITION_DATES = (
    "nominations_open_at",
    "nominations_close_at",
    "reviews_close_at",
    "announcement_at",
    "ceremony_at",
)


class EditionForm(Form):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("For example: E-waste Awards 2027"),
    )
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2200)])
    code = StringField(
        _l("Reference prefix"),
        validators=[
            DataRequired(),
            Length(min=2, max=12),
            Regexp(
                r"^[A-Za-z0-9]+$", message=_l("Use letters and digits only, for example EWA27.")
            ),
        ],
        filters=[lambda value: value.upper() if isinstance(value, str) else value],
        description=_l("Starts every nomination reference, for example EWA27."),
    )
    event_name = StringField(
        _l("Event"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("Where the winners are announced, for example the WSIS Forum."),
    )
    event_venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    nominations_open_at = UtcDateTimeField(
        _l("Nominations open (UTC)"), validators=[InputRequired()]
    )
    nominations_close_at = UtcDateTimeField(
        _l("Nominations close (UTC)"), validators=[InputRequired()]
    )
    reviews_close_at = UtcDateTimeField(_l("Reviews close (UTC)"), validators=[InputRequired()])
    announcement_at = UtcDateTimeField(
        _l("Announcement (UTC)"),
        validators=[InputRequired()],
        description=_l("The embargo lifts at this moment and the winners become public."),
    )
    ceremony_at = UtcDateTimeField(_l("Ceremony (UTC)"), validators=[InputRequired()])
    submit = SubmitField(_l("Save edition"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        labels = {name: getattr(self, name).label.text for name in EDITION_DATES}
        for earlier, later in zip(EDITION_DATES, EDITION_DATES[1:], strict=False):
            first, second = getattr(self, earlier).data, getattr(self, later).data
            too_early = second < first if later != "nominations_close_at" else second <= first
            if too_early:
                getattr(self, later).errors.append(
                    str(_l("Must come after “%(other)s”.", other=labels[earlier]))
                )
                return False
        return True


def role_choices() -> list[SelectChoice]:
    return options(
        [
            (Role.SECRETARIAT.value, str(_l("Secretariat"))),
            (Role.MEMBER_ADMIN.value, str(_l("Member administrator"))),
            (Role.REVIEWER.value, str(_l("Committee reviewer"))),
            (Role.CHAIR.value, str(_l("Committee chair"))),
        ]
    )


class InviteForm(Form):
    """Invite a person (new or existing) to a role with its scope."""

    email = EmailField(
        _l("Email address"), validators=[DataRequired(), Length(max=254), ValidEmail()]
    )
    name = StringField(
        _l("Full name"),
        validators=[Optional(), Length(max=200)],
        description=_l("Needed when the person has no account yet."),
    )
    role = SelectField(_l("Role"), choices=role_choices)
    organisation_id = SelectField(
        _l("Organisation (for member administrators)"), coerce=int, validate_choice=False
    )
    category_id = SelectField(
        _l("Category (for committee roles)"), coerce=int, validate_choice=False
    )
    submit = SubmitField(_l("Send invitation"))


class UserSearchForm(Form):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Search by name or email"), validators=[Optional(), Length(max=200)])


class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter changes nothing

    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=80)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=40)])
    actor = StringField(_l("Person’s email contains"), validators=[Optional(), Length(max=254)])


class UserStatusForm(Form):
    active = BooleanField(_l("Account active"))
    submit = SubmitField(_l("Save"))


# --- Nominations ------------------------------------------------------------------------


def _country_options() -> list[SelectChoice]:
    from .countries import country_choices

    return options([("", str(_l("Choose a country"))), *country_choices()])


class NomineeForm(Form):
    """Who is nominated, and in which language the nomination is written."""

    self_nomination = SelectField(
        _l("Who are you nominating?"),
        choices=lambda: options(
            [
                ("self", str(_l("Myself or my own organisation"))),
                ("other", str(_l("Someone else (we will tell them by email)"))),
            ]
        ),
    )
    nominee_name = StringField(
        _l("Nominee’s name"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("A person, an organisation or an initiative, as it should be known."),
    )
    nominee_organisation = StringField(
        _l("Nominee’s organisation"), validators=[Optional(), Length(max=200)]
    )
    nominee_country = SelectField(
        _l("Nominee’s country"), choices=_country_options, validators=[Optional()]
    )
    nominee_email = EmailField(
        _l("Nominee’s email address"),
        validators=[Optional(), Length(max=254), ValidEmail()],
        description=_l("Required when you nominate someone else."),
    )
    language = SelectField(
        _l("Language of the nomination"),
        choices=_language_choices,
        description=_l("The committee will read your answers in this language."),
    )


class StartNominationForm(NomineeForm):
    submit = SubmitField(_l("Start the nomination"))


class NominationForm(NomineeForm):
    # The version the form was opened on: a save over someone else's newer one is refused.
    version = HiddenField()
    save = SubmitField(_l("Save draft"))
    review = SubmitField(_l("Save and review"))
