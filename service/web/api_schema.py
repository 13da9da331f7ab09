"""The OpenAPI 3.0 document for ``/api/v1`` (served at ``/api/v1/openapi.json``).

Written by hand next to the views it describes; tests/test_api_schemathesis.py
checks every response against it.
"""

from __future__ import annotations

from typing import Any

from service.web import report_schema


def string(nullable: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": "string", **({"nullable": True} if nullable else {}), **extra}


def integer(nullable: bool = False) -> dict[str, Any]:
    return {"type": "integer", **({"nullable": True} if nullable else {})}


def when(nullable: bool = False) -> dict[str, Any]:
    return string(nullable, format="date-time")


def obj(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    "Peer": obj(
        id=integer(),
        name=string(),
        phone=string(description="E.164"),
        timezone=string(description="IANA time zone"),
        language=string(enum=["en", "es"]),
        consent=string(enum=["pending", "opted_in", "opted_out"]),
        status=string(),
        specialist_id=integer(),
        encouragement=string(),
        created_at=when(),
    ),
    "Schedule": obj(
        id=integer(),
        goal_id=integer(),
        kind=string(enum=["checkin", "encouragement", "summary"]),
        days=string(),
        times=string(description="comma-separated HH:MM, the peer's local time"),
        active={"type": "boolean"},
        next_due_at=when(nullable=True),
    ),
    "Goal": obj(
        id=integer(),
        text=string(),
        position=integer(),
        active={"type": "boolean"},
        schedules={"type": "array", "items": ref("Schedule")},
    ),
    "CheckIn": obj(
        id=integer(),
        goal_id=integer(),
        date=string(format="date"),
        result=string(),
        created_at=when(),
    ),
    "Message": obj(
        direction=string(enum=["in", "out"]),
        id=integer(),
        at=when(nullable=True),
        kind=string(nullable=True),
        status=string(),
        skip_reason=string(nullable=True),
        error_code=string(nullable=True),
        body=string(nullable=True),
    ),
    "Flag": obj(
        id=integer(),
        peer_id=integer(),
        kind=string(),
        urgent={"type": "boolean"},
        detail=string(nullable=True),
        created_at=when(),
        resolved_at=when(nullable=True),
    ),
    "Error": obj(error=obj(code=string(), message=string())),
    "ReportSummary": report_schema.SUMMARY,
}


def page_of(name: str) -> dict[str, Any]:
    return obj(data={"type": "array", "items": ref(name)}, next_offset=integer(nullable=True))


def list_of(name: str) -> dict[str, Any]:
    return obj(data={"type": "array", "items": ref(name)})


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": json_response("no token, or an unknown or revoked one", ref("Error")),
    "429": json_response("too many requests for this token", ref("Error")),
}
PAGING = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000, "default": 0},
    },
]
PEER_ID = {
    "name": "peer_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


def operation(
    summary: str, schema: dict[str, Any], parameters: list[dict[str, Any]], on_peer: bool
) -> dict[str, Any]:
    responses = {"200": json_response("OK", schema), **ERRORS}
    if parameters:
        responses["400"] = json_response("a query parameter is out of range", ref("Error"))
    if on_peer:
        responses["404"] = json_response("no such peer on your caseload", ref("Error"))
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def document() -> dict[str, Any]:
    peer = [PEER_ID]
    open_flag = {
        "name": "open",
        "in": "query",
        "schema": {"type": "string", "enum": ["true", "false"]},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "PeerNudge API",
            "version": "1",
            "description": "Read-only access to a specialist's caseload: the same data and "
            "permissions as the dashboard. Create a token on the Account page.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/peers": operation(
                "Peers on your caseload (all, for an admin)", page_of("Peer"), PAGING, False
            ),
            "/peers/{peer_id}": operation("One peer", ref("Peer"), peer, True),
            "/peers/{peer_id}/goals": operation(
                "A peer's goals with their schedules", list_of("Goal"), peer, True
            ),
            "/peers/{peer_id}/schedules": operation(
                "A peer's schedules", list_of("Schedule"), peer, True
            ),
            "/peers/{peer_id}/checkins": operation(
                "A peer's check-ins, newest first", page_of("CheckIn"), peer + PAGING, True
            ),
            "/peers/{peer_id}/messages": operation(
                "A peer's texts both ways, newest first", page_of("Message"), peer + PAGING, True
            ),
            "/peers/{peer_id}/flags": operation("A peer's flags", list_of("Flag"), peer, True),
            "/flags": operation(
                "Flags on your caseload, urgent first", page_of("Flag"), [open_flag, *PAGING], False
            ),
            "/reports/summary": operation(
                "The program report for a date range (an admin's: the program or one caseload)",
                ref("ReportSummary"),
                report_schema.PARAMETERS,
                False,
            ),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
