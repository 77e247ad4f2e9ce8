"""Fraud signals, each with its reason in words, summed into a score from 0 to 100.

The visitor's address is the socket's unless the request comes from a configured
trusted proxy (VERIFICATION_TRUSTED_PROXIES, CIDR ranges such as Cloudflare's);
only then does django-ipware read the forwarding headers and is Cloudflare's
CF-IPCountry believed. Without that header, a GeoLite2 database read through
geoip2 (VERIFICATION_GEOIP_DATABASE) gives the country.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache

import geoip2.database
import geoip2.errors
from disposable_email_domains import blocklist
from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone
from ipware import get_client_ip

from accounts.models import User

from .models import CardAttempt

# Points per signal; VERIFICATION_RISK_THRESHOLD (60) decides what waits for review.
POINTS_IP_COUNTRY = 25
POINTS_CARD_COUNTRY = 20
POINTS_IP_CARD_COUNTRY = 10
POINTS_DISPOSABLE_EMAIL = 30
POINTS_MANY_CARDS = 40
POINTS_RADAR = {"elevated": 30, "highest": 60}


@dataclass(frozen=True)
class Visitor:
    ip_address: str
    country: str = ""
    country_source: str = ""  # "Cloudflare", "GeoLite2" or ""


@dataclass(frozen=True)
class Risk:
    score: int
    reasons: tuple[str, ...] = field(default_factory=tuple)
    ip_address: str = ""
    ip_country: str = ""


def _trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(network, strict=False)
        for network in settings.VERIFICATION_TRUSTED_PROXIES
    )


def visitor_from_request(request: HttpRequest) -> Visitor:
    """Who is paying, as far as the request can be believed."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _trusted_proxy(remote):
        return Visitor(ip_address=remote, **_geoip_country(remote))
    # The proxy is the socket's peer, so the last forwarded hop is the address it saw;
    # anything to the left of it is what the client claimed and is not believed.
    forwarded, _ = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=0,
        strict=False,
        request_header_order=["HTTP_CF_CONNECTING_IP", "HTTP_X_FORWARDED_FOR"],
    )
    address = forwarded or remote
    header = request.META.get("HTTP_CF_IPCOUNTRY", "").strip().upper()
    # XX: unknown, T1: Tor (Cloudflare's codes that are no country).
    if len(header) == 2 and header.isalpha() and header not in {"XX", "T1"}:
        return Visitor(ip_address=address, country=header, country_source="Cloudflare")
    return Visitor(ip_address=address, **_geoip_country(address))


@lru_cache(maxsize=2)
def _geoip_reader(path: str) -> geoip2.database.Reader:
    return geoip2.database.Reader(path)


def _geoip_country(address: str) -> dict[str, str]:
    path = settings.VERIFICATION_GEOIP_DATABASE
    if not path or not address:
        return {}
    try:
        code = _geoip_reader(path).country(address).country.iso_code
    except (geoip2.errors.AddressNotFoundError, ValueError):
        return {}
    return {"country": code, "country_source": "GeoLite2"} if code else {}


def _different_cards_recently(*, user: User) -> int:
    since = timezone.now() - dt.timedelta(minutes=settings.VERIFICATION_CARD_ATTEMPTS_MINUTES)
    return (
        CardAttempt.objects.filter(user=user, attempted_at__gte=since)
        .aggregate(cards=Count("card_fingerprint", distinct=True))
        .get("cards")
        or 0
    )


def assess(*, user: User, visitor: Visitor | None, card_country: str = "") -> Risk:
    """The score of a payment (or, without a card, of an order) by `user` now."""
    points = 0
    reasons: list[str] = []
    billing = str(user.country or "")
    ip_country = visitor.country if visitor else ""
    if ip_country and billing and ip_country != billing:
        points += POINTS_IP_COUNTRY
        reasons.append(
            f"The visitor's country ({ip_country}, from {visitor.country_source}) "  # type: ignore[union-attr]
            f"is not the billing country ({billing})."
        )
    if card_country and billing and card_country != billing:
        points += POINTS_CARD_COUNTRY
        reasons.append(
            f"The card's country ({card_country}) is not the billing country ({billing})."
        )
    if card_country and ip_country and card_country != ip_country:
        points += POINTS_IP_CARD_COUNTRY
        reasons.append(
            f"The card's country ({card_country}) is not the visitor's country ({ip_country})."
        )
    domain = user.email.rsplit("@", 1)[-1].lower()
    if domain in blocklist:
        points += POINTS_DISPOSABLE_EMAIL
        reasons.append(f"The email address is at a disposable email domain ({domain}).")
    cards = _different_cards_recently(user=user)
    if cards >= settings.VERIFICATION_CARD_ATTEMPTS_LIMIT:
        points += POINTS_MANY_CARDS
        reasons.append(
            f"{cards} different cards were tried within "
            f"{settings.VERIFICATION_CARD_ATTEMPTS_MINUTES} minutes."
        )
    return Risk(
        score=min(100, points),
        reasons=tuple(reasons),
        ip_address=visitor.ip_address if visitor else "",
        ip_country=ip_country,
    )


def radar_signal(*, risk_level: str, risk_score: int | None) -> tuple[int, str]:
    """Stripe Radar's outcome of a charge as points and words ("" when it says nothing)."""
    if not risk_level or risk_level in {"not_assessed", "unknown"}:
        return 0, ""
    score = f", score {risk_score}" if risk_score is not None else ""
    points = POINTS_RADAR.get(risk_level, 0)
    return points, f"Stripe Radar rates the charge {risk_level.replace('_', ' ')} risk{score}."
