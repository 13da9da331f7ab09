"""Crisis and emergency lines by the peer's country: the reviewed file, overrides, enrolment."""

from __future__ import annotations

import csv

import phonenumbers
import pytest
from sqlalchemy import select

from service.crisis_lines import DATA_FILE, country_of, line_for, lines_on_file
from service.models import Flag
from service.peers import EnrolmentError
from service.settings import DIALLABLE, Settings
from tests.conftest import enrol

UK_MOBILE = "+447400123456"
POLISH_MOBILE = "+48512345678"
JAMAICAN_MOBILE = "+18762101234"


def reviewed_rows() -> list[dict[str, str]]:
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_row_is_a_real_country_with_an_emergency_number_and_a_source():
    rows = reviewed_rows()
    countries = [row["country"] for row in rows]
    assert len(countries) == len(set(countries))
    for row in rows:
        assert row["country"] in phonenumbers.SUPPORTED_REGIONS, row
        assert row["emergency"] and row["source"], row
        numbers = [row["call"], row["text"], *row["emergency"].split(" or ")]
        assert all(DIALLABLE.match(n) for n in numbers if n), row
        assert bool(row["name"]) == bool(row["call"] or row["text"]), row


@pytest.mark.parametrize(
    ("country", "call", "text", "emergency"),
    [
        ("US", "988", "988", "911"),
        ("CA", "988", "988", "911"),
        ("GB", "116 123", "85258", "999"),
        ("IE", "116 123", "50808", "112 or 999"),
        ("AU", "13 11 14", "0477 13 11 14", "000"),
        ("NZ", "1737", "1737", "111"),
        ("MX", "800 911 2000", "", "911"),
        ("ES", "024", "", "112"),
    ],
)
def test_the_countries_the_issue_names_are_on_file(country, call, text, emergency):
    line = lines_on_file()[country]
    assert (line.call, line.text, line.emergency) == (call, text, emergency)
    assert line.has_line


def test_a_number_gets_the_line_of_its_own_country(settings):
    assert line_for("+12125550134", settings).call == "988"
    uk = line_for(UK_MOBILE, settings)
    assert (uk.name, uk.call, uk.text_word, uk.text, uk.emergency) == (
        "Samaritans", "116 123", "SHOUT", "85258", "999",
    )  # fmt: skip
    polish = line_for(POLISH_MOBILE, settings)
    assert (polish.has_line, polish.emergency) == (False, "112")


def test_a_country_not_on_file_has_no_numbers_to_give(settings):
    line = line_for(JAMAICAN_MOBILE, settings)
    assert (line.country, line.has_line, line.emergency) == ("JM", False, "")
    assert country_of("not a number") == "ZZ"


def test_the_programs_own_line_wins_in_its_home_country_only(settings: Settings):
    local = settings.with_overrides(
        crisis_line_name="County Crisis Line",
        crisis_line_call="+1 800 555 0199",
        emergency_number="911",
    )
    line = line_for("+12125550134", local)
    assert (line.name, line.call, line.text, line.emergency) == (
        "County Crisis Line", "+1 800 555 0199", "", "911",
    )  # fmt: skip
    assert line_for(UK_MOBILE, local).call == "116 123"  # a US county line does not work abroad


def test_enrolment_refuses_a_country_with_no_reviewed_numbers_naming_it(runtime, specialist):
    with pytest.raises(EnrolmentError, match=r"Jamaica \(JM\).*crisis_lines.csv"):
        enrol(runtime, specialist, phone=JAMAICAN_MOBILE, tz="America/Jamaica")


def test_a_peer_whose_country_has_no_crisis_line_is_flagged_once(runtime, specialist):
    peer_id = enrol(runtime, specialist, phone=POLISH_MOBILE, tz="Europe/Warsaw")
    enrol(runtime, specialist, phone=UK_MOBILE, tz="Europe/London")
    with runtime.session_factory() as session:
        flags = session.scalars(select(Flag).where(Flag.kind == "no_crisis_line")).all()
    assert [(f.peer_id, f.urgent, f.detail) for f in flags] == [
        (peer_id, False, "no crisis line on file for Poland (PL)")
    ]
