"""Whole numbers as people type them in forms and query strings: ASCII digits only."""

from __future__ import annotations

import pytest

from service.web.request_input import DATABASE_ID_MAX, whole_number


@pytest.mark.parametrize(
    "raw",
    [None, "", " 7", "7 ", "+7", "-7", "7.0", "1e3", "0x10", "\u00b3", "\u0663", "\uff13",
     "\u2467", "7\x00", "99999999999999999999", str(DATABASE_ID_MAX + 1), "٣٣"],
)  # fmt: skip
def test_anything_but_plain_ascii_digits_in_range_is_not_a_number(raw):
    assert whole_number(raw) is None


def test_plain_digits_in_range_are_read():
    assert whole_number("0") == 0
    assert whole_number("007") == 7
    assert whole_number(str(DATABASE_ID_MAX)) == DATABASE_ID_MAX
    assert whole_number("5", low=1, high=5) == 5
    assert whole_number("6", low=1, high=5) is None
    assert whole_number("0", low=1, high=5) is None
