"""The request a signed-in customer's view receives."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from core.consent import ConsentRequest

from .models import User


class AuthenticatedRequest(ConsentRequest):
    """A request behind `@login_required`: `request.user` is a customer, never anonymous.

    Annotate a view's `request` with this type only when the view is wrapped in
    `login_required` (or admin's `staff_member_required`), which guarantees it.
    """

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The user of a request that `login_required` or the admin site let through.

    For code that receives a plain HttpRequest from Django (admin hooks, signal
    receivers); an anonymous request there is refused rather than trusted.
    """
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
