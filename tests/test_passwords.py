"""The one password rule every form and the CLI use."""

from __future__ import annotations

import pytest

from service.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    PasswordError,
    check_new_password,
    common_passwords,
    hash_password,
    password_matches,
)


def test_the_bundled_list_holds_a_few_hundred_common_passwords():
    words = common_passwords()
    assert len(words) >= 300
    assert {"123456", "password", "qwerty123", "iloveyou"} <= words
    assert all(word == word.strip().lower() and not word.startswith("#") for word in words)


@pytest.mark.parametrize("password", ["password123", "PASSWORD123", " Qwertyuiop ", "1q2w3e4r5t"])
def test_a_common_password_is_refused_whatever_its_case(password):
    with pytest.raises(PasswordError, match="most common"):
        check_new_password(password)


def test_the_length_rule_has_both_ends():
    check_new_password("b" * MIN_LENGTH + "x")
    check_new_password("words " * (MAX_LENGTH // 6))
    with pytest.raises(PasswordError, match=f"at least {MIN_LENGTH}"):
        check_new_password("b" * (MIN_LENGTH - 1))
    with pytest.raises(PasswordError, match=f"at most {MAX_LENGTH}"):
        check_new_password("b" * (MAX_LENGTH + 1))


def test_a_password_matches_only_its_own_hash():
    stored = hash_password("a fine passphrase")
    assert password_matches(stored, "a fine passphrase")
    assert not password_matches(stored, "a fine passphrasE")
    assert not password_matches(None, "a fine passphrase")
    assert not password_matches(stored, "x" * 10_000)
