from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectMultipleField, StringField, URLField
from wtforms.validators import URL, DataRequired, Email, Length

from iris.notifications.operations import EVENTS, WEBHOOK_EVENTS


class SubscribeForm(FlaskForm):
    email = EmailField(
        _l("Your e-mail address"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=320)],
        description=_l("We send one message to confirm; then one for each status change."),
    )


class WebhookForm(FlaskForm):
    name = StringField(_l("Name of the system"), validators=[DataRequired(), Length(max=200)])
    url = URLField(
        _l("Address that receives the events"),
        validators=[DataRequired(), URL(require_tld=False), Length(max=1000)],
        description=_l("Each call is a POST with a JSON body signed with HMAC-SHA256."),
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=[(e, EVENTS[e].label) for e in WEBHOOK_EVENTS],
        description=_l("Leave empty to receive every event."),
    )
