"""Occurrences in the peer's own time zone, across daylight-saving changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.recurrence import (
    ScheduleError,
    choice_of_days,
    days_from_choice,
    local_instant,
    next_occurrence,
    parse_clock,
    parse_days,
    parse_zone,
    recurrence,
    spread_over_week,
)


def year_of_occurrences(zone_name: str, days: str, times: str, start: datetime) -> list[datetime]:
    zone, rule = ZoneInfo(zone_name), recurrence(days, times)
    found, at = [], start
    while at < start + timedelta(days=365):
        at = next_occurrence(rule, zone, at)
        found.append(at.astimezone(zone))
    return found[:-1]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Sydney"])
def test_a_daily_0900_stays_0900_local_for_a_whole_year(zone):
    occurrences = year_of_occurrences(zone, "daily", "09:00", datetime(2026, 1, 1, tzinfo=UTC))
    days = [o.date() for o in occurrences]
    assert len(days) == len(set(days)) >= 364  # exactly one per local day
    assert all(o.time() == time(9, 0) for o in occurrences)
    offsets = {o.utcoffset() for o in occurrences}
    assert len(offsets) == 2  # the year crossed both daylight-saving changes


@pytest.mark.parametrize(
    ("zone", "gap_day", "expected"),
    [
        ("America/New_York", date(2026, 3, 8), time(3, 0)),
        ("Europe/London", date(2026, 3, 29), time(2, 0)),
        ("Australia/Sydney", date(2026, 10, 4), time(3, 0)),
    ],
)
def test_a_time_that_does_not_exist_moves_to_the_first_valid_minute(zone, gap_day, expected):
    wall = time(2, 30) if zone != "Europe/London" else time(1, 30)
    instant = local_instant(gap_day, wall, ZoneInfo(zone))
    assert instant.astimezone(ZoneInfo(zone)).time() == expected
    assert instant.astimezone(ZoneInfo(zone)).date() == gap_day


@pytest.mark.parametrize(
    ("zone", "fold_day"),
    [
        ("America/New_York", date(2026, 11, 1)),
        ("Europe/London", date(2026, 10, 25)),
        ("Australia/Sydney", date(2026, 4, 5)),
    ],
)
def test_a_repeated_local_time_fires_once(zone, fold_day):
    wall = "01:30" if zone != "Australia/Sydney" else "02:30"
    start = datetime.combine(fold_day - timedelta(days=1), time(12), ZoneInfo(zone))
    first = next_occurrence(recurrence("daily", wall), ZoneInfo(zone), start.astimezone(UTC))
    second = next_occurrence(recurrence("daily", wall), ZoneInfo(zone), first)
    assert first.astimezone(ZoneInfo(zone)).date() == fold_day
    assert second.astimezone(ZoneInfo(zone)).date() == fold_day + timedelta(days=1)


@pytest.mark.parametrize(
    ("count", "weekdays"),
    [(1, {0}), (2, {0, 3}), (3, {0, 2, 4}), (5, {0, 1, 2, 4, 5}), (7, set(range(7)))],
)
def test_n_times_a_week_is_spread_over_the_week(count, weekdays):
    assert spread_over_week(count) == weekdays
    occurrences = year_of_occurrences(
        "America/Chicago", f"{count}x-week", "18:00", datetime(2026, 2, 2, tzinfo=UTC)
    )
    first_week = [o for o in occurrences if o.date() < date(2026, 2, 9)]
    assert len(first_week) == count
    assert {o.weekday() for o in occurrences} == weekdays


def test_weekdays_and_chosen_days():
    assert parse_days("weekdays") == ("weekdays", frozenset(range(5)))
    assert parse_days("Fri, mon,WED") == ("mon,wed,fri", frozenset({0, 2, 4}))
    assert parse_days("tuesday,thursday")[0] == "tue,thu"


def test_several_times_a_day_each_fire():
    occurrences = year_of_occurrences(
        "America/New_York", "daily", "09:00,18:30", datetime(2026, 5, 1, tzinfo=UTC)
    )
    assert {o.time() for o in occurrences} == {time(9), time(18, 30)}
    assert len(occurrences) == 2 * len({o.date() for o in occurrences})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19:30", time(19, 30)),
        ("7pm", time(19)),
        ("7:30 PM", time(19, 30)),
        ("12am", time(0)),
        ("12pm", time(12)),
        ("09:05", time(9, 5)),
    ],
)
def test_clock_values(value, expected):
    assert parse_clock(value) == expected


@pytest.mark.parametrize("value", ["25:00", "7", "noonish", "13pm", ""])
def test_bad_clock_values_say_what_was_typed(value):
    with pytest.raises(ScheduleError, match="not understood"):
        parse_clock(value)


@pytest.mark.parametrize("value", ["someday", "mon,funday", "8x-week", ""])
def test_bad_days_are_refused(value):
    with pytest.raises(ScheduleError, match="not understood"):
        parse_days(value)


def test_unknown_time_zone_is_refused():
    with pytest.raises(ScheduleError, match="Mars/Olympus"):
        parse_zone("Mars/Olympus")


def test_days_may_be_separated_by_spaces_as_people_type_them():
    assert parse_days("mon wed")[0] == "mon,wed"
    assert parse_days("Monday, Friday")[0] == "mon,fri"
    assert parse_days("every day")[0] == "daily"


def test_the_plain_day_choices_map_to_the_stored_days():
    assert days_from_choice("chosen", "", ["fri", "mon"]) == "mon,fri"
    assert days_from_choice("per_week", "3", []) == "3x-week"
    assert days_from_choice("weekdays", "", ["sun"]) == "weekdays"
    assert choice_of_days("mon,fri") == ("chosen", "", ("mon", "fri"))
    assert choice_of_days("2x-week") == ("per_week", "2", ())
    for choice, count, days in [("chosen", "", []), ("per_week", "0", []), ("", "", [])]:
        with pytest.raises(ScheduleError):
            days_from_choice(choice, count, days)
