"""Caller numbers against registered ones, in the forms carriers and PBXs write them."""

from __future__ import annotations

import pytest

from deskguard.detection.phones import registered, same_number


@pytest.mark.parametrize(
    "presented",
    ["+33612345678", "0612345678", "06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "33612345678"],
)
def test_the_same_french_mobile_in_every_form(presented: str) -> None:
    assert same_number(presented, "+33612345678")


@pytest.mark.parametrize("presented", ["+447700900123", "0612345679", "", "not a number", "+33612345"])
def test_other_numbers_do_not_match(presented: str) -> None:
    assert not same_number(presented, "+33612345678")


def test_a_national_number_is_read_in_the_registered_numbers_country() -> None:
    assert same_number("(212) 555-0142", "+12125550142")  # US national form
    assert not same_number("0212 555 0142", "+12125550142")
    assert registered("06 12 34 56 78", ["+12125550142", "+33612345678"])
    assert not registered("06 12 34 56 78", [])
