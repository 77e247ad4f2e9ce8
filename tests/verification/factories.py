from __future__ import annotations

import factory

from tests.factories import ModelFactory, UserFactory
from verification.models import Case, CaseReason, CaseStatus


class CaseFactory(ModelFactory[Case]):
    class Meta:
        model = Case

    user = factory.SubFactory(UserFactory)
    card_fingerprint = factory.Sequence(lambda n: f"fpcase{n}")
    card_brand = "visa"
    card_last4 = "0341"
    card_country = "GB"
    card_three_d_secure = False
    reason = CaseReason.NO_THREE_D_SECURE
    status = CaseStatus.AWAITING_DOCUMENTS
    billing_country = "GB"
