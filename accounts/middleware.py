"""Who is signed in, from the session's entry; and allauth's user-session activity
tracking, at most once per interval per session.

AuthenticationMiddleware is Django's, with request.user taken from the copy of the
customer kept in the session's cache entry (accounts.session_store): one Redis read
for both, no query. Django's `auth.get_user` still decides, with the copy handed to
the backend the session names, so the password-hash check, inactive customers and
the fallback secret keys behave exactly as in Django.


allauth's own UserSessionsMiddleware opens a transaction, reads the session row and
the user and writes the row back on every signed-in request. This one does the same
write only when the session has not been tracked for USERSESSIONS_ACTIVITY_INTERVAL
seconds, or when its IP address, browser or session key changed (so the sessions
page, and allauth's session_client_changed signal, still see every change of
address at once). When it last tracked lives in the session itself, so deciding
costs no query; an ordinary page view writes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable

from allauth import app_settings as allauth_settings
from allauth.usersessions import app_settings
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject

from .backends import providing, snapshot_load
from .models import User
from .session_store import SessionStore

SESSION_KEY = "_usersession_tracked"


def user_from_session(request: HttpRequest) -> User | AnonymousUser:
    """request.user: Django's get_user, given the customer from the session's entry, or
    from the database (then kept in the entry for the next requests)."""
    session = request.session
    try:
        user_id = User._meta.pk.to_python(session[auth.SESSION_KEY])
    except (KeyError, ValidationError):
        return auth.get_user(request)
    store = session if isinstance(session, SessionStore) else None
    snapshot = store.user_snapshot(user_id) if store else None
    loaded = snapshot is None
    if loaded:
        snapshot = snapshot_load(user_id)
    with providing(snapshot.user() if snapshot else None):
        user = auth.get_user(request)
    if loaded and store and snapshot and user.is_authenticated and user.pk == user_id:
        store.user_snapshot_keep(snapshot)
    return user


class AuthenticationMiddleware(DjangoAuthentication):
    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _cached(request))  # type: ignore[assignment]


def _cached(request: HttpRequest) -> User | AnonymousUser:
    # Django's login() and logout() set request.user; _cached_user is Django's name.
    if not hasattr(request, "_cached_user"):
        request._cached_user = user_from_session(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined, no-any-return]


def _fingerprint(request: HttpRequest) -> str:
    """What the tracked row depends on, hashed: the session key, the browser and the
    request's own address inputs as they arrive (the socket address, and the headers
    allauth's get_client_ip believes as configured). When the inputs are unchanged, so
    is the address allauth derives from them; comparing them costs no header parsing,
    adapter or address parsing on every request (0.2 M instructions)."""
    meta = request.META
    seen = [
        request.session.session_key or "",
        meta.get("HTTP_USER_AGENT", "")[: _user_agent_length()],
        meta.get("REMOTE_ADDR", ""),
    ]
    if allauth_settings.TRUSTED_PROXY_COUNT:
        seen.append(meta.get("HTTP_X_FORWARDED_FOR", ""))
    if allauth_settings.TRUSTED_CLIENT_IP_HEADER:
        header = allauth_settings.TRUSTED_CLIENT_IP_HEADER.upper().replace("-", "_")
        seen.append(meta.get(f"HTTP_{header}", ""))
    return hashlib.sha256("\n".join(seen).encode()).hexdigest()[:32]


@functools.cache
def _user_agent_length() -> int:
    length: int = UserSession._meta.get_field("user_agent").max_length
    return length


class UserSessionsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            app_settings.TRACK_ACTIVITY
            and hasattr(request, "session")
            and request.session.session_key
            and auth.SESSION_KEY in request.session
        ):
            self._track(request)
        return self.get_response(request)

    def _track(self, request: HttpRequest) -> None:
        now = int(time.time())
        fingerprint = _fingerprint(request)
        tracked = request.session.get(SESSION_KEY)
        if (
            isinstance(tracked, list)
            and len(tracked) == 2
            and tracked[1] == fingerprint
            and 0 <= now - tracked[0] < settings.USERSESSIONS_ACTIVITY_INTERVAL
        ):
            return
        # Only a write needs to know who is signed in: an ordinary request leaves
        # request.user unloaded for the view to load, or not.
        if not request.user.is_authenticated:
            return
        UserSession.objects.create_from_request(request)
        request.session[SESSION_KEY] = [now, fingerprint]


def mark_tracked_at_login(
    sender: type[User], request: HttpRequest, user: User, **kwargs: object
) -> None:
    """allauth's user_logged_in receiver, after allauth's own (which records the new
    session): the first page after signing in need not record it again."""
    if app_settings.TRACK_ACTIVITY and request.session.session_key:
        request.session[SESSION_KEY] = [int(time.time()), _fingerprint(request)]
