import pytest

from service.phones import (
    PhoneError,
    last_four,
    national_format,
    normalize_phone,
    timezone_for_number,
)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(212) 555-0134", "US", "+12125550134"),
        ("212.555.0134", "US", "+12125550134"),
        ("+1 212 555 0134", "GB", "+12125550134"),
        ("07400 123456", "GB", "+447400123456"),
        ("0412 345 678", "AU", "+61412345678"),
        ("612 345 678", "ES", "+34612345678"),
    ],
)
def test_valid_numbers_are_stored_as_e164(raw, region, expected):
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("", "US", "required"),
        ("hello", "US", "'hello' is not"),
        ("555-0134", "US", "'555-0134' is not a valid phone number"),
        ("+44 20 7183 8750", "US", "not a mobile number"),  # a London landline
        ("030 1234567", "DE", "not a mobile number"),  # a Berlin landline
        ("9" * 60, "US", "too long"),
    ],
)
def test_bad_numbers_are_refused_naming_the_input(raw, region, message):
    with pytest.raises(PhoneError, match=message):
        normalize_phone(raw, region)


def test_time_zone_comes_from_the_number_only_when_it_is_one_zone():
    assert timezone_for_number("+12125550134") == "America/New_York"
    assert timezone_for_number("+61412345678") is None  # Australian mobiles span zones


def test_display_and_log_forms():
    assert national_format("+12125550134") == "(212) 555-0134"
    assert last_four("+12125550134") == "...0134"
