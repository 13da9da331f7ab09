"""The Program page: outcomes for a date range, its charts, and a CSV for every table.

An admin sees the whole program, or one specialist's caseload, and a table by
specialist; a specialist sees their own caseload. Figures come from
:mod:`service.reports`; no peer words are shown (goals are numbered, not named).
With "for sharing outside the program" small counts are hidden, on the page and
in the CSVs, and the follow-up list with names is left out.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from service import report_charts, reports
from service.models import Specialist
from service.web import runtime
from service.web.caseload import audit
from service.web.dashboard import safe_cell
from service.web.request_input import whole_number

bp = Blueprint("program", __name__)
RANGE_CHOICES = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_90_days": "Last 90 days",
    "custom": "Custom",
}


@dataclass(frozen=True)
class Table:
    """One table of the page, and of its CSV: rows of (definition key or None, cells)."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str | None, list[Any]]]


def today_here() -> date:
    """Today in the signed-in specialist's zone: what "this month" means to them."""
    return runtime().now().astimezone(ZoneInfo(current_user.timezone)).date()


def requested_range(args: Any, today: date) -> reports.ReportRange:
    choice = args.get("range") or ("custom" if args.get("from") or args.get("to") else None)
    if choice == "custom":
        return reports.parse_range(args.get("from"), args.get("to"))
    return reports.preset_range(choice or "this_month", today)


def requested_specialist(args: Any) -> int | None:
    """An admin's choice (None: the whole program); a specialist always sees their own."""
    if not current_user.is_admin:
        return current_user.id
    raw = args.get("specialist") or ""
    if raw in ("", "all"):
        return None
    specialist_id = whole_number(raw, 1)
    if specialist_id is None:
        raise reports.RangeError("specialist must be a specialist's number, or all")
    return specialist_id


def program_summary(args: Any) -> tuple[dict[str, Any], bool]:
    """The report the request asks for, and whether it is for sharing outside."""
    rt, today = runtime(), today_here()
    report_range = requested_range(args, today)
    specialist_id = requested_specialist(args)
    outside = args.get("outside") in ("1", "true", "yes")
    with rt.session_factory() as session:
        report = reports.Report.build(
            session, rt.settings, report_range, specialist_id, rt.now(), today
        )
        figures = reports.summary(report)
    if outside:
        figures = reports.hide_small_counts(figures, rt.settings.small_count_threshold)
    return figures, outside


@bp.get("/program")
@login_required
def page():
    try:
        figures, outside = program_summary(request.args)
    except reports.RangeError as error:
        return render_page(None, False, str(error)), 400
    return render_page(figures, outside, None)


def render_page(figures: dict[str, Any] | None, outside: bool, error: str | None) -> str:
    with runtime().session_factory() as session:
        specialists = (
            session.execute(select(Specialist.id, Specialist.name).order_by(Specialist.name)).all()
            if current_user.is_admin
            else []
        )
    return render_template(
        "program.html",
        figures=figures,
        tables={t.name: t for t in tables(figures)} if figures else {},
        charts=charts(figures) if figures else {},
        outside=outside,
        error=error,
        choices=RANGE_CHOICES,
        specialists=specialists,
        definitions=reports.DEFINITIONS,
        threshold=runtime().settings.small_count_threshold,
        query=report_query(request.args),
        cell=cell_text,
        percent=percent_text,
    )


QUERY_FIELDS = ("range", "from", "to", "specialist", "outside")


def report_query(args: Any) -> dict[str, str]:
    """The page's own parameters, for its CSV links and form."""
    return {name: args[name] for name in QUERY_FIELDS if args.get(name)}


PERCENT_COLUMNS = ("Share", "Answered", "Done per scheduled day")


def cell_text(column: str, value: Any) -> str:
    """A table cell as the page shows it: shares as percentages, minutes as time."""
    if value is None:
        return "-"
    if "minutes" in column.lower():
        return minutes_text(value)
    if column in PERCENT_COLUMNS or (column == "Value" and isinstance(value, float)):
        return percent_text(value)
    return str(value)


@bp.get("/program/<name>.csv")
@login_required
def export(name: str) -> Response:
    try:
        figures, outside = program_summary(request.args)
    except reports.RangeError as error:
        abort(400, description=str(error))
    table = next((t for t in tables(figures) if t.name == name), None)
    if table is None:
        abort(404)
    with runtime().session_factory() as session, session.begin():
        audit(
            session,
            "program report exported",
            None,
            table=name,
            outside=outside,
            range=[figures["range"]["from"], figures["range"]["to"]],
        )
    return table_csv(table, figures)


def table_csv(table: Table, figures: dict[str, Any]) -> Response:
    """The table as CSV (cells a spreadsheet would run as formulas are defused)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.columns)
    for _, cells in table.rows:
        writer.writerow([safe_cell(cell) for cell in cells])
    name = f"program-{table.name}-{figures['range']['from']}-{figures['range']['to']}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


# --- formatting ------------------------------------------------------------------------


def percent_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def minutes_text(value: int | None) -> str:
    if value is None:
        return "-"
    days, rest = divmod(value, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


# --- the tables --------------------------------------------------------------------------


def tables(figures: dict[str, Any]) -> list[Table]:
    """Every table of the page, in page order (each is also a CSV)."""
    return [
        *people_tables(figures["people"]),
        *engagement_tables(figures["engagement"]),
        *goal_tables(figures["goals"]),
        *mood_tables(figures["mood"]),
        *safety_tables(figures["safety"]),
        *delivery_tables(figures["delivery"]),
        *follow_up_tables(figures["follow_up_due"]),
        *specialist_tables(figures["by_specialist"]),
    ]


def people_tables(people: dict[str, Any]) -> list[Table]:
    rows = [
        (key, [reports.DEFINITIONS[key][0], people[key]])
        for key in ("served", "new_enrolments", "re_enrolled", "discharged", "opted_out")
    ]
    reasons = [(None, [reason, n]) for reason, n in people["discharged_by_reason"].items()]
    routes = [(None, [route, n]) for route, n in people["opted_out_by_route"].items()]
    return [
        Table("people", "People", ("Figure", "Peers"), rows),
        Table("discharge-reasons", "Discharged, by reason", ("Reason", "Peers"), reasons),
        Table("opt-out-routes", "Opted out, by route", ("Route", "Peers"), routes),
    ]


def engagement_tables(engagement: dict[str, Any]) -> list[Table]:
    checkins, weekly = engagement["check_ins"], engagement["weekly"]
    rows = [
        ("answered", ["Check-in texts sent", checkins["sent"]]),
        ("answered", ["Check-ins answered", checkins["answered"]]),
        ("answered", ["Share answered", checkins["share"]]),
        ("time_to_answer", ["Median minutes to answer", checkins["median_minutes_to_answer"]]),
        ("weekly", ["Peers enrolled for the whole range", weekly["eligible"]]),
        (
            "weekly",
            [
                f"Of them, answered in each of {weekly['weeks']} full weeks",
                weekly["answered_every_week"],
            ],
        ),
        ("weekly", ["Share answering every week", weekly["share"]]),
    ]
    retention = [
        ("retention", [f"{r['days']} days", r["cohort"], r["retained"], r["share"]])
        for r in engagement["retention"]
    ]
    columns = ("Since enrolment", "Peers reaching it in the range", "Retained", "Share")
    return [
        Table("engagement", "Engagement", ("Figure", "Value"), rows),
        Table("retention", "Retention", columns, retention),
    ]


GOAL_NAMES = {1: "Each peer's first goal", 2: "Second goal", 3: "Third and later goals"}


def goal_tables(goals: dict[str, Any]) -> list[Table]:
    rows = [
        (
            "done_rate",
            [
                GOAL_NAMES[g["goal"]],
                g["scheduled_days"],
                g["done_days"],
                g["done_per_scheduled_day"],
            ],
        )
        for g in goals["by_goal"]
    ]
    rows.append(
        (
            "done_rate",
            [
                "All goals",
                goals["scheduled_days"],
                goals["done_days"],
                goals["done_per_scheduled_day"],
            ],
        )
    )
    bands = [("habit_strength", [b["band"], b["goals"]]) for b in goals["habit_strength"]]
    milestones = [
        ("milestones", ["Milestones reached", goals["milestones"]]),
        ("milestones", ["Peers with a milestone", goals["peers_with_milestone"]]),
    ]
    columns = ("Goal", "Scheduled days", "Done days", "Done per scheduled day")
    return [
        Table("goals", "Done days per scheduled day", columns, rows),
        Table("habit-strength", "Habit strength", ("Band", "Goals"), bands),
        Table("milestones", "Milestones", ("Figure", "Count"), milestones),
    ]


def mood_tables(mood: dict[str, Any]) -> list[Table]:
    scores = [("mood", [f"{d['score']} of 5", d["replies"]]) for d in mood["distribution"]]
    weeks = [("mood", [w["week_start"], w["replies"], w["average"]]) for w in mood["weekly"]]
    return [
        Table("mood", "Mood replies", ("Score", "Replies"), scores),
        Table("mood-weeks", "Mood by week", ("Week from", "Replies", "Average"), weeks),
    ]


def safety_tables(safety: dict[str, Any]) -> list[Table]:
    kinds = [("flags", [f["kind"], f["flags"], f["urgent"]]) for f in safety["flags_by_kind"]]
    timings = [
        ("acknowledge", "Acknowledge an alert (urgent)", safety["acknowledge_urgent"]),
        ("resolve", "Resolve an urgent flag", safety["resolve_urgent"]),
        ("resolve", "Resolve another flag", safety["resolve_other"]),
    ]
    times = [
        (key, [label, t["count"], t["median_minutes"], t["p90_minutes"]])
        for key, label, t in timings
    ]
    follow, alerts = safety["crisis_follow_ups"], safety["alerts"]
    attention = [
        ("exhausted", ["Alerts opened", alerts["opened"]]),
        ("exhausted", ["Alerts that exhausted their chain", alerts["exhausted"]]),
        ("follow_ups", ["Crisis follow-ups due", follow["due"]]),
        ("follow_ups", ["Done within 48 hours", follow["within_48_hours"]]),
        ("follow_ups", ["Share done within 48 hours", follow["share"]]),
    ]
    columns = ("Measure", "Count", "Median minutes", "90th percentile minutes")
    return [
        Table("flags", "Flags by kind", ("Kind", "Flags", "Urgent"), kinds),
        Table("response-times", "Time to respond", columns, times),
        Table("alerts", "Alerts and follow-ups", ("Figure", "Count"), attention),
    ]


def delivery_tables(delivery: dict[str, Any]) -> list[Table]:
    outcomes = [
        ("delivery", [label, delivery[key]])
        for key, label in (
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("failed", "Failed"),
            ("waiting", "Still waiting to go"),
        )
    ]
    failures = [
        ("delivery", [reports.ERROR_CLASSES[name], n])
        for name, n in delivery["failed_by_class"].items()
    ]
    reasons = [("not_sent", [r, n]) for r, n in delivery["not_sent_by_reason"].items()]
    return [
        Table("delivery", "Delivery", ("Outcome", "Texts"), outcomes),
        Table("failures", "Failed, by error class", ("Error class", "Texts"), failures),
        Table("not-sent", "Not sent, by reason", ("Reason", "Texts"), reasons),
    ]


def follow_up_tables(follow: dict[str, Any]) -> list[Table]:
    counts = [
        (
            "follow_up_due",
            [f"Peers with a review in the next {follow['window_days']} days", follow["due"]],
        ),
        ("follow_up_due", ["Reached in their window", follow["reached"]]),
        ("follow_up_due", ["Share reached", follow["share"]]),
    ]
    peers = [
        (
            None,
            [
                p["peer_id"],
                p["name"],
                p["specialist"],
                p["review_date"],
                "yes" if p["reached"] else "not yet",
            ],
        )
        for p in follow["peers"]
    ]
    columns = ("Peer", "Name", "Specialist", "Review day", "Reached in the window")
    return [
        Table("follow-up", "Follow-up due", ("Figure", "Peers"), counts),
        Table("follow-up-peers", "Follow-up due: who", columns, peers),
    ]


def specialist_tables(rows: list[dict[str, Any]]) -> list[Table]:
    cells = [
        (
            None,
            [r["name"], r["served"], r["new_enrolments"], r["check_ins_sent"], r["answered_share"]],
        )
        for r in rows
    ]
    columns = ("Specialist", "Peers served", "New enrolments", "Check-ins sent", "Answered")
    return [Table("specialists", "By specialist", columns, cells)] if rows else []


# --- the charts --------------------------------------------------------------------------


def charts(figures: dict[str, Any]) -> dict[str, Markup]:
    mood, goals, delivery = figures["mood"], figures["goals"], figures["delivery"]
    return {
        "mood": report_charts.bar_chart(
            "chart-mood",
            "Mood replies by score",
            [(str(d["score"]), d["replies"]) for d in mood["distribution"]],
            "replies",
        ),
        "mood_weeks": report_charts.line_chart(
            "chart-mood-weeks",
            "Average mood by week",
            [(w["week_start"], w["average"]) for w in mood["weekly"]],
            1,
            5,
        ),
        "habit": report_charts.bar_chart(
            "chart-habit",
            "Goals by habit strength",
            [(b["band"], b["goals"]) for b in goals["habit_strength"]],
            "goals",
        ),
        "delivery": report_charts.bar_chart(
            "chart-delivery",
            "Texts by outcome",
            [
                ("sent", delivery["sent"]),
                ("delivered", delivery["delivered"]),
                ("failed", delivery["failed"]),
                ("not sent", sum(v or 0 for v in delivery["not_sent_by_reason"].values())),
            ],
            "texts",
        ),
    }
