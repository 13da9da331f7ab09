"""SQL expressions the program report needs that SQLite and PostgreSQL spell differently.

* The peer's local day of a UTC timestamp. PostgreSQL converts with the peer's own
  zone (``AT TIME ZONE``). SQLite has no time zones, so the UTC offset of each zone
  present is worked out here, period by period over the report's range (DST
  changes included), and the query adds it with a ``CASE`` on the peer's zone: one
  expression per row, no join, no Python per row.
* Elapsed time between two timestamps, in days or seconds, and a timestamp plus N days.
* Percentiles: PostgreSQL's ``percentile_disc``; on SQLite (no percentile function)
  the rows are counted per whole minute in SQL and the percentile is read off that
  histogram, a bounded set (one row per distinct minute). Both round to whole
  minutes, so both databases give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Float,
    Integer,
    String,
    case,
    cast,
    extract,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.models import Peer, UTCDateTime

# No zone is further than this from UTC (Kiribati is +14, Baker Island -12).
WIDEST_OFFSET = timedelta(hours=15)


def utc_floor(first: date) -> datetime:
    """An instant before local midnight of ``first`` in every zone (for index range scans)."""
    return datetime.combine(first, time(0), UTC) - WIDEST_OFFSET


def utc_ceiling(last: date) -> datetime:
    """An instant after the end of ``last`` in every zone."""
    return datetime.combine(last + timedelta(days=1), time(0), UTC) + WIDEST_OFFSET


def offset_periods(zone: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """(until, offset seconds) for each stretch of constant UTC offset from start to end;
    the last stretch's ``until`` is ``end``."""
    tz, periods = ZoneInfo(zone), []
    at, offset = start, offset_at(tz, start)
    while at < end:
        next_day = min(at + timedelta(days=1), end)
        if offset_at(tz, next_day) != offset:
            change = first_change(tz, at, next_day, offset)
            periods.append((change, offset))
            at, offset = change, offset_at(tz, change)
        else:
            at = next_day
    periods.append((end, offset))
    return periods


def offset_at(tz: ZoneInfo, moment: datetime) -> int:
    return int(moment.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]


def first_change(tz: ZoneInfo, low: datetime, high: datetime, offset: int) -> datetime:
    """The first instant in (low, high] whose offset differs from ``offset``, to the minute."""
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if offset_at(tz, middle) == offset:
            low = middle
        else:
            high = middle
    return high.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Dialect:
    """Builds the dialect's spelling of each expression for one report."""

    name: str
    zones: dict[str, list[tuple[datetime, int]]]

    @classmethod
    def for_session(cls, session: Session, first: date, last: date) -> Dialect:
        name = session.get_bind().dialect.name
        zones: dict[str, list[tuple[datetime, int]]] = {}
        if name != "postgresql":
            # A year before the range too: retention and follow-up look back from it.
            start, end = utc_floor(first - timedelta(days=400)), utc_ceiling(last)
            for zone in session.scalars(select(Peer.timezone).distinct()):
                zones[zone] = offset_periods(zone, start, end)
        return cls(name, zones)

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    def local_date(self, moment: Any) -> ColumnElement[date]:
        """The peer's local calendar day of a UTC timestamp (the query joins Peer)."""
        if self.postgres:
            local = func.timezone(Peer.timezone, func.timezone("UTC", moment))
            return cast(local, Date)
        offset = self.sqlite_offset(moment)
        shifted = func.date(moment, cast(offset, String).concat(" seconds"))
        return type_coerce(shifted, Date)

    def sqlite_offset(self, moment: Any) -> ColumnElement[int]:
        by_zone = {
            zone: case(
                *[(moment < literal(until, UTCDateTime), offset) for until, offset in periods],
                else_=periods[-1][1],
            )
            for zone, periods in self.zones.items()
        }
        if not by_zone:
            return literal(0, Integer)
        return case(by_zone, value=Peer.timezone, else_=0)

    def days_between(self, later: Any, earlier: Any) -> ColumnElement[float]:
        if self.postgres:
            return extract("epoch", later - earlier) / 86400.0
        return type_coerce(func.julianday(later) - func.julianday(earlier), Float)

    def minutes_between(self, later: Any, earlier: Any) -> ColumnElement[int]:
        """Whole minutes from ``earlier`` to ``later`` (seconds rounded first)."""
        seconds = func.round(self.days_between(later, earlier) * 86400.0)
        if self.postgres:
            return cast(func.floor(seconds / 60.0), Integer)
        # Not floor(): SQLAlchemy gives SQLite a Python floor, run per row (and failing on
        # NULL). CAST truncates, which is floor for the elapsed times here (never negative).
        return cast(seconds / 60.0, Integer)

    def plus_days(self, moment: Any, days: int) -> ColumnElement[datetime]:
        """A timestamp ``days`` later, comparable with stored timestamps (index-friendly)."""
        if self.postgres:
            return moment + func.make_interval(0, 0, 0, days)
        return func.strftime("%Y-%m-%d %H:%M:%f", moment, f"{days:+d} days")

    def day_number(self, day: Any, first: date) -> ColumnElement[int]:
        """Days from ``first`` to a date column (0 on ``first``)."""
        if self.postgres:
            return day - literal(first, Date)
        return cast(func.julianday(day) - func.julianday(literal(first, Date)), Integer)

    def percentiles(
        self, session: Session, minutes: Any, shares: Sequence[float]
    ) -> tuple[int, list[int | None]]:
        """(how many rows, the percentiles) of ``minutes``, a column of a subquery."""
        if self.postgres:
            columns = [func.percentile_disc(share).within_group(minutes) for share in shares]
            row = session.execute(select(func.count(minutes), *columns)).one()
            return row[0], [None if value is None else int(value) for value in row[1:]]
        histogram = session.execute(
            select(minutes, func.count()).where(minutes.is_not(None)).group_by(minutes)
        ).all()
        return sum(n for _, n in histogram), [from_histogram(histogram, s) for s in shares]


def from_histogram(histogram: Sequence[Any], share: float) -> int | None:
    """The smallest value whose cumulative share reaches ``share`` (percentile_disc)."""
    total = sum(count for _, count in histogram)
    if total == 0:
        return None
    running = 0
    for value, count in sorted(histogram):
        running += count
        if running >= share * total:
            return int(value)
    return int(max(value for value, _ in histogram))
