"""Access decorators. Every view is declared public or protected; a test walks the URL map.

- ``@public``: anyone, no account (registry, verification, sign-in pages).
- ``@login_required``: any signed-in user; object access is then checked in the view.
- ``@roles_required(Role.X, ...)``: a signed-in user holding at least one of the roles
  (in any organisation); object access is then checked in the view.

Object checks answer 404 where even the existence of an object must not leak to others
(another agency's application, a case the auditor is not assigned to), 403 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import current_user
from flask_login import login_required as _flask_login_required

from workflows.roles import Role

F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    view.iris_access = "public"  # type: ignore[attr-defined]
    return view


def login_required(view: F) -> F:
    wrapped: Any = _flask_login_required(view)
    wrapped.iris_access = "login"
    return cast(F, wrapped)


def roles_required(*roles: Role) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not any(current_user.has_role(r) for r in roles):
                abort(403)
            return view(*args, **kwargs)

        protected: Any = login_required(wrapper)
        protected.iris_access = "roles"
        protected.iris_roles = frozenset(roles)
        return cast(F, protected)

    return decorator


def require(condition: bool, code: int = 403) -> None:
    """Abort with ``code`` unless ``condition`` holds (404 hides an object's existence)."""
    if not condition:
        abort(code)
