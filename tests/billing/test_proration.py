"""The proration rule of docs/billing.md, checked as properties (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from billing.models import Price, Product
from billing.services.changes import ChangeQuote, prorate

amounts = st.integers(min_value=0, max_value=10_000_000)
periods = st.integers(min_value=1, max_value=366)


@st.composite
def periods_and_days_left(draw):
    total = draw(periods)
    return total, draw(st.integers(min_value=0, max_value=total))


@given(amounts, amounts, periods_and_days_left())
def test_it_never_exceeds_the_price_difference(old, new, period):
    total, left = period
    assert abs(prorate(old_amount=old, new_amount=new, days_left=left, days_total=total)) <= abs(
        new - old
    )


@given(amounts, amounts, periods_and_days_left())
def test_going_back_is_worth_exactly_the_opposite(old, new, period):
    total, left = period
    there = prorate(old_amount=old, new_amount=new, days_left=left, days_total=total)
    back = prorate(old_amount=new, new_amount=old, days_left=left, days_total=total)
    assert there == -back


@given(amounts, amounts, periods)
def test_a_whole_period_costs_the_difference_and_no_time_left_costs_nothing(old, new, total):
    assert prorate(old_amount=old, new_amount=new, days_left=total, days_total=total) == new - old
    assert prorate(old_amount=old, new_amount=new, days_left=0, days_total=total) == 0


@given(amounts, amounts, periods_and_days_left())
def test_it_is_the_exact_share_rounded_half_away_from_zero(old, new, period):
    total, left = period
    amount = prorate(old_amount=old, new_amount=new, days_left=left, days_total=total)
    exact = (new - old) * left / total
    assert abs(amount - exact) <= 0.5


@given(amounts, amounts, periods_and_days_left())
def test_more_days_left_never_costs_less_on_an_upgrade(old, new, period):
    total, left = period
    if new >= old and left < total:
        assert prorate(
            old_amount=old, new_amount=new, days_left=left + 1, days_total=total
        ) >= prorate(old_amount=old, new_amount=new, days_left=left, days_total=total)


@given(amounts, amounts, periods_and_days_left())
def test_a_downgrade_credits_what_the_same_upgrade_would_charge(old, new, period):
    total, left = period
    there = prorate(old_amount=old, new_amount=new, days_left=left, days_total=total)
    quote = ChangeQuote(
        product=Product(),
        price=Price(),
        amount=prorate(old_amount=new, new_amount=old, days_left=left, days_total=total),
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 2, 1),
    )
    assert quote.credit == max(there, 0)
    assert 0 <= quote.credit <= abs(new - old)
