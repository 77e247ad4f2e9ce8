"""Stripe objects shaped as in Stripe's API reference, for the injected HTTP client:
localstripe reports every card as supporting 3-D Secure, Stripe does not."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

CUSTOMER = "cus_Verify"


def payment_method(
    pm_id: str, *, supported: bool, fingerprint: str, last4: str = "0005", country: str = "GB"
) -> dict[str, Any]:
    return {
        "id": pm_id,
        "object": "payment_method",
        "type": "card",
        "customer": CUSTOMER,
        "billing_details": {"address": {"postal_code": "NW1 6XE"}},
        "card": {
            "brand": "amex",
            "last4": last4,
            "exp_month": 12,
            "exp_year": 2034,
            "country": country,
            "fingerprint": fingerprint,
            "funding": "credit",
            "three_d_secure_usage": {"supported": supported},
            "checks": {"cvc_check": "pass"},
        },
    }


def setup_intent(seti_id: str, pm_id: str) -> dict[str, Any]:
    return {
        "id": seti_id,
        "object": "setup_intent",
        "status": "succeeded",
        "client_secret": f"{seti_id}_secret_x",
        "customer": CUSTOMER,
        "payment_method": pm_id,
        "usage": "off_session",
    }


def payment_intent(
    params: dict[str, str],
    *,
    status: str = "succeeded",
    risk_level: str = "normal",
    risk_score: int = 12,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    pi_id = "pi_" + params.get("metadata[payment_id]", "0").rjust(6, "0")
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": int(params["amount"]),
        "currency": params["currency"],
        "customer": params["customer"],
        "payment_method": params["payment_method"],
        "status": status,
        "client_secret": f"{pi_id}_secret_x",
        "last_payment_error": error,
        "metadata": {
            key[len("metadata[") : -1]: value
            for key, value in params.items()
            if key.startswith("metadata[")
        },
        "latest_charge": {
            "id": "ch_" + pi_id[3:],
            "object": "charge",
            "outcome": {
                "network_status": "approved_by_network",
                "risk_level": risk_level,
                "risk_score": risk_score,
                "type": "authorized",
                "seller_message": "Payment complete.",
            },
        },
    }


def answer(body: dict[str, Any], params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    return 200, body


class FakeStripe:
    """Routes for the card setup and the charges; `charges` records each PaymentIntent."""

    def __init__(self, install, **cards: dict[str, Any]):
        self.cards = dict(cards)
        self.charges: list[dict[str, str]] = []
        self.answer = "succeeded"
        routes: dict[tuple[str, str], Callable[[dict[str, str]], tuple[int, dict[str, Any]]]] = {
            ("POST", "/v1/payment_intents"): self.charge
        }
        for pm_id, pm in self.cards.items():
            seti = setup_intent(f"seti_{pm_id}", pm_id)
            routes[("GET", f"/v1/setup_intents/seti_{pm_id}")] = partial(answer, seti)
            routes[("GET", f"/v1/payment_methods/{pm_id}")] = partial(answer, pm)
        self.http = install(routes)

    def charge(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.charges.append(params)
        return 200, payment_intent(params, status=self.answer, risk_level="elevated", risk_score=67)
