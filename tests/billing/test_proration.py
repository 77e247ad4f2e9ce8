"""The proration rule of docs/billing.md, checked as properties (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from billing.services.changes import credit_days, prorate

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


@given(st.integers(min_value=0, max_value=10_000_000), amounts, periods)
def test_credited_days_are_worth_no_more_than_the_credit(credit, new, total):
    days = credit_days(credit=credit, new_amount=new, days_total=total)
    assert days * new <= credit * total
    if new > 0:
        assert (days + 1) * new > credit * total
    else:
        assert days == 0
