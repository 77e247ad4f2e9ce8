from __future__ import annotations

import logging

from django.urls import reverse

from tests.helpers import SIGNUP


def test_sign_up_and_sign_in_log_no_personal_data(client, db, caplog):
    caplog.set_level(logging.DEBUG)

    client.post(reverse("account_signup"), SIGNUP)
    client.post(reverse("account_login"), {"login": SIGNUP["email"], "password": "wrong"})
    client.post(reverse("account_reset_password"), {"email": SIGNUP["email"]})
    client.get("/no-such-page/?email=" + SIGNUP["email"])

    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in (SIGNUP["email"], SIGNUP["phone"], SIGNUP["full_name"], SIGNUP["address_line1"]):
        assert value not in logged
