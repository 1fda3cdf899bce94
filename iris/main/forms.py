from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A POST-only button: carries the CSRF token and nothing else."""
