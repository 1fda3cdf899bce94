"""The versioned JSON API under ``/api/v1`` and the personal API tokens that open it.

Views are built with flask-smorest: the marshmallow schemas in :mod:`iris.api.schemas`
validate the requests and generate the OpenAPI document (``/api/v1/openapi.json``, shown as
a page at ``/api/v1/docs``). Every call is authorised as the same action in the web
interface: the token names a user, then the same role, organisation and object checks of
the feature apply (another organisation's object answers 404), plus the token's scopes.
"""
