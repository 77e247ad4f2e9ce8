"""In Chromium: a customer exports their data and erases their account from Account >
Privacy, with no staff action (Celery runs eagerly on commit in the live server)."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from privacy.data_requests import erasure_run
from privacy.models import DataRequest
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def private_exports(settings, tmp_path):
    storages = {key: dict(value) for key, value in settings.STORAGES.items()}
    storages["privacy"] = {
        "BACKEND": "verification.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "exports")},
    }
    settings.STORAGES = storages


def test_a_customer_exports_then_erases_their_account(page, alice, tmp_path):
    page.goto("/account/privacy/")
    page.fill('input[name="login"]', alice.email)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()

    page.get_by_role("button", name="Export my data").click()
    expect(page.get_by_text("We are preparing your export.")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Ready to download")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    target = tmp_path / "export.zip"
    download.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        data = json.loads(archive.read("export.json"))
    assert data["categories"]["accounts.profile"]["email"] == "alice@example.com"

    page.get_by_role("link", name="Erase my account").click()
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Erase my account").click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    page.get_by_label("Your password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Erase my account").click()
    expect(page.get_by_text("Your erasure is scheduled")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Scheduled, runs"))).to_be_visible()

    erasure = DataRequest.objects.get(kind=DataRequest.Kind.ERASURE)
    DataRequest.objects.filter(pk=erasure.pk).update(erase_after=timezone.now())
    erasure_run(request_id=erasure.pk)  # the beat job's run once the grace period is over

    page.goto("/account/privacy/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    alice.refresh_from_db()
    assert not alice.is_active and alice.email.startswith("erased-")
