"""The OpenAPI schema of ``GET /api/v1/reports/summary`` (joined into service/api_schema.py).

Counts are nullable: shared outside the program (``outside=true``) a count under
SMALL_COUNT_THRESHOLD is null, and so is every share or time worked out from it.
"""

from __future__ import annotations

from typing import Any

from service.reports import DEFINITIONS


def count() -> dict[str, Any]:
    return {"type": "integer", "nullable": True, "minimum": 0}


def number() -> dict[str, Any]:
    return {"type": "number", "nullable": True}


def text() -> dict[str, Any]:
    return {"type": "string"}


def obj(description: str | None = None, **properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "required": list(properties), "properties": properties}
    return schema | ({"description": description} if description else {})


def counts_by_name(description: str) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": count(), "description": description}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def defined(key: str) -> str:
    return DEFINITIONS[key][1]


def timing(key: str) -> dict[str, Any]:
    return obj(defined(key), count=count(), median_minutes=number(), p90_minutes=number())


PEOPLE = obj(
    served=count() | {"description": defined("served")},
    new_enrolments=count() | {"description": defined("new_enrolments")},
    re_enrolled=count() | {"description": defined("re_enrolled")},
    discharged=count() | {"description": defined("discharged")},
    discharged_by_reason=counts_by_name("peers discharged in the range, by reason"),
    opted_out=count() | {"description": defined("opted_out")},
    opted_out_by_route=counts_by_name("keyword, provider, specialist"),
)
ENGAGEMENT = obj(
    check_ins=obj(
        defined("answered"),
        sent=count(),
        answered=count(),
        share=number(),
        median_minutes_to_answer=number() | {"description": defined("time_to_answer")},
    ),
    weekly=obj(
        defined("weekly"),
        weeks={"type": "integer"},
        eligible=count(),
        answered_every_week=count(),
        share=number(),
    ),
    retention=array(
        obj(
            defined("retention"),
            days={"type": "integer"},
            cohort=count(),
            retained=count(),
            share=number(),
        )
    ),
)
GOALS = obj(
    scheduled_days=count(),
    done_days=count(),
    done_per_scheduled_day=number() | {"description": defined("done_rate")},
    by_goal=array(
        obj(
            "1: each peer's first goal, 2: second, 3: third and later",
            goal={"type": "integer"},
            scheduled_days=count(),
            done_days=count(),
            done_per_scheduled_day=number(),
        )
    ),
    habit_strength=array(obj(defined("habit_strength"), band=text(), goals=count())),
    milestones=count() | {"description": defined("milestones")},
    peers_with_milestone=count(),
)
MOOD = obj(
    defined("mood"),
    replies=count(),
    average=number(),
    distribution=array(obj(score={"type": "integer"}, replies=count())),
    weekly=array(obj(week_start=text() | {"format": "date"}, replies=count(), average=number())),
)
SAFETY = obj(
    flags_by_kind=array(obj(defined("flags"), kind=text(), flags=count(), urgent=count())),
    acknowledge_urgent=timing("acknowledge"),
    resolve_urgent=timing("resolve"),
    resolve_other=timing("resolve"),
    alerts=obj(defined("exhausted"), opened=count(), exhausted=count()),
    crisis_follow_ups=obj(
        defined("follow_ups"), due=count(), within_48_hours=count(), share=number()
    ),
)
DELIVERY = obj(
    defined("delivery"),
    sent=count(),
    delivered=count(),
    failed=count(),
    waiting=count(),
    failed_by_class=counts_by_name("unsubscribed, unreachable, filtered, unconfirmed, other"),
    not_sent_by_reason=counts_by_name(defined("not_sent")),
)
FOLLOW_UP = obj(
    defined("follow_up_due"),
    review_after_days={"type": "integer"},
    window_days={"type": "integer"},
    due=count(),
    reached=count(),
    share=number(),
    peers=array(
        obj(
            peer_id={"type": "integer"},
            name=text(),
            specialist=text(),
            review_date=text() | {"format": "date"},
            reached={"type": "boolean"},
        )
    ),
)
SUMMARY = obj(
    "The program report; every day is the peer's own local day.",
    range=obj(
        **{"from": text() | {"format": "date"}, "to": text() | {"format": "date"}},
        days={"type": "integer"},
    ),
    specialist_id={"type": "integer", "nullable": True},
    people=PEOPLE,
    engagement=ENGAGEMENT,
    goals=GOALS,
    mood=MOOD,
    safety=SAFETY,
    delivery=DELIVERY,
    follow_up_due=FOLLOW_UP,
    by_specialist=array(
        obj(
            specialist_id={"type": "integer"},
            name=text(),
            served=count(),
            new_enrolments=count(),
            check_ins_sent=count(),
            answered_share=number(),
        )
    ),
    small_counts_hidden={"type": "boolean"},
)


def date_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": description,
        "schema": {"type": "string", "format": "date"},
    }


PARAMETERS = [
    date_parameter("from", "first day of the range (YYYY-MM-DD), included"),
    date_parameter(
        "to",
        "last day of the range, included: on or after from, at most 366 days in all, "
        "years 2000 to 2100 (else 400)",
    ),
    {
        "name": "specialist_id",
        "in": "query",
        "description": "an admin's choice of caseload "
        "(default: the whole program); a specialist always gets their own",
        "schema": {"type": "integer", "minimum": 1},
    },
    {
        "name": "outside",
        "in": "query",
        "description": "true: for sharing outside the program, small counts hidden",
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
]
