"""Forms of the category builder and of the Secretariat's approval."""

from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from . import categories
from .forms import Form, UtcDateTimeField, options
from .models import QuestionKind
from .questions import KIND_LABELS, MAX_CHOICES, SHORT_TEXT_LIMIT
from .uploads import FILE_TYPES, MAX_UPLOAD_MB


def kind_choices():
    return options((kind.value, label) for kind, label in KIND_LABELS.items())


def _finite(form, field) -> None:
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Enter a number."))


def _number_text(form, field) -> None:
    """An optional bound typed as text: a finite number or nothing."""
    if not field.data:
        return
    try:
        value = float(field.data.replace(",", ""))
    except ValueError as exc:
        raise ValidationError(_l("Enter a number.")) from exc
    if not math.isfinite(value):
        raise ValidationError(_l("Enter a number."))


class CategoryForm(Form):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=categories.TITLE_MAX)],
        description=_l("The name of the award, for example “ITU Digital Circularity Award”."),
    )
    theme = StringField(
        _l("Theme"),
        validators=[Optional(), Length(max=categories.THEME_MAX)],
        description=_l("How the award relates to your organisation’s mandate, in one line."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=categories.TEXT_MAX)],
        description=_l(
            "What the award recognises. Markdown: **bold**, *italic*, lists, [links](https://…)."
        ),
    )
    eligibility = TextAreaField(
        _l("Eligibility"),
        validators=[Optional(), Length(max=categories.TEXT_MAX)],
        description=_l("Who may be nominated and on what conditions. Markdown, as above."),
    )
    winners_count = IntegerField(
        _l("Number of winners"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=categories.COUNT_MAX)],
    )
    honourable_mentions_count = IntegerField(
        _l("Number of honourable mentions"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=categories.COUNT_MAX)],
    )
    reviewers_per_nomination = IntegerField(
        _l("Reviewers per nomination"),
        default=3,
        validators=[InputRequired(), NumberRange(min=1, max=categories.REVIEWERS_MAX)],
    )
    blind_review = BooleanField(
        _l("Blind review: hide answers that identify the nominee from reviewers")
    )
    nominations_open_at = UtcDateTimeField(
        _l("Nominations open (UTC)"),
        validators=[Optional()],
        description=_l("Leave empty to use the edition’s dates."),
    )
    nominations_close_at = UtcDateTimeField(
        _l("Nominations close (UTC)"),
        validators=[Optional()],
        description=_l("Leave empty to use the edition’s dates."),
    )
    submit = SubmitField(_l("Save"))

    def values(self) -> dict:
        return {
            name: getattr(self, name).data
            for name in (*categories.DETAIL_WORDING, *categories.DETAIL_SETTINGS)
        }


class NewCategoryForm(CategoryForm):
    edition_id = SelectField(_l("Edition"), coerce=int)
    submit = SubmitField(_l("Create category"))


class QuestionForm(Form):
    """One form for every kind; the page shows the settings of the question's kind only."""

    kind = SelectField(_l("Kind of question"), choices=kind_choices)
    label = StringField(
        _l("Question"),
        validators=[DataRequired(), Length(max=categories.LABEL_MAX)],
        description=_l("What the nominator reads, for example “Summary of the initiative”."),
    )
    help_text = TextAreaField(
        _l("Help text"),
        validators=[Optional(), Length(max=categories.HELP_MAX)],
        description=_l("Shown under the question to explain what a good answer contains."),
    )
    required = BooleanField(_l("An answer is required"))
    identifies_nominee = BooleanField(
        _l("The answer identifies the nominee (hidden from reviewers in a blind review)")
    )
    max_length = IntegerField(
        _l("Length limit (characters)"),
        default=300,
        validators=[Optional(), NumberRange(min=1, max=SHORT_TEXT_LIMIT)],
    )
    word_limit = IntegerField(
        _l("Word limit"), default=500, validators=[Optional(), NumberRange(min=1, max=5000)]
    )
    choices = TextAreaField(
        _l("Choices"),
        validators=[Optional(), Length(max=MAX_CHOICES * 201)],
        description=_l("One choice per line, at least two."),
    )
    minimum = StringField(
        _l("Smallest value"), validators=[Optional(), Length(max=30), _number_text]
    )
    maximum = StringField(
        _l("Largest value"), validators=[Optional(), Length(max=30), _number_text]
    )
    integer = BooleanField(_l("Whole numbers only"))
    allowed_types = SelectMultipleField(
        _l("Accepted file types"),
        choices=options((key, file_type.label) for key, file_type in FILE_TYPES.items()),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    max_size_mb = IntegerField(
        _l("Size limit (MB)"),
        default=10,
        validators=[Optional(), NumberRange(min=1, max=MAX_UPLOAD_MB)],
    )
    submit = SubmitField(_l("Save question"))

    def fill_options(self, raw: dict) -> None:
        """Show a question's stored settings in the fields."""
        for key, value in raw.items():
            if key == "choices":
                self.choices.data = "\n".join(value or [])
            elif key in ("minimum", "maximum"):
                number = value
                if isinstance(number, float) and number.is_integer():
                    number = int(number)
                getattr(self, key).data = "" if number is None else str(number)
            elif hasattr(self, key):
                getattr(self, key).data = value

    def values(self, kind: QuestionKind) -> dict:
        raw = {
            "max_length": self.max_length.data,
            "word_limit": self.word_limit.data,
            "choices": (self.choices.data or "").splitlines(),
            "minimum": (self.minimum.data or "").replace(",", ""),
            "maximum": (self.maximum.data or "").replace(",", ""),
            "integer": self.integer.data,
            "allowed_types": self.allowed_types.data or [],
            "max_size_mb": self.max_size_mb.data,
        }
        return {
            "kind": kind.value,
            "label": self.label.data,
            "help_text": self.help_text.data or "",
            "required": self.required.data,
            "identifies_nominee": self.identifies_nominee.data,
            "options": raw,
        }


class CriterionForm(Form):
    title = StringField(
        _l("Criterion"),
        validators=[DataRequired(), Length(max=categories.TITLE_MAX)],
        description=_l("For example “Environmental impact”."),
    )
    guidance = TextAreaField(
        _l("Guidance for reviewers"),
        validators=[Optional(), Length(max=categories.GUIDANCE_MAX)],
        description=_l("What each score means, for example one line per level. Markdown."),
    )
    weight = FloatField(
        _l("Weight"),
        default=1.0,
        validators=[InputRequired(), _finite, NumberRange(max=categories.WEIGHT_MAX)],
        description=_l("Above 0. A criterion of weight 2 counts twice as much as one of 1."),
    )
    scale_min = IntegerField(
        _l("Lowest score"),
        default=1,
        validators=[InputRequired(), NumberRange(min=0, max=categories.SCALE_LIMIT)],
    )
    scale_max = IntegerField(
        _l("Highest score"),
        default=5,
        validators=[InputRequired(), NumberRange(min=0, max=categories.SCALE_LIMIT)],
    )
    submit = SubmitField(_l("Save criterion"))

    def values(self) -> dict:
        return {
            name: getattr(self, name).data
            for name in ("title", "guidance", "weight", "scale_min", "scale_max")
        }


class ApprovalForm(Form):
    comment = TextAreaField(
        _l("Comment to the administrators"),
        validators=[Optional(), Length(max=categories.COMMENT_MAX)],
        description=_l("Required when you return the category: say what to change."),
    )
    approve = SubmitField(_l("Approve and open"))
    send_back = SubmitField(_l("Return to the administrators"))
