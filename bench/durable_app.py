"""The webhook benchmark's durable minimum: what any webhook that loses nothing must do.

Validate the Twilio signature, INSERT the text under its unique MessageSid
(a duplicate is skipped), commit, answer empty TwiML. Same database as the app
under test (``DATABASE_URL``), opened the way the app opens it (SQLite in WAL
mode with its write lock; PostgreSQL with its pool), so the ratio measures what
PeerNudge adds to the minimum, not a difference in drivers or settings.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, Response, abort, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text
from twilio.request_validator import RequestValidator

from service.db import insert_skipping_duplicates, make_engine

metadata = MetaData()
texts = Table(
    "bench_durable_texts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("provider_id", String(64), unique=True, nullable=False),
    Column("from_phone", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


def create_table(database_url: str) -> None:
    """Before the server starts (its processes would race to create it)."""
    metadata.create_all(make_engine(database_url))


engine = make_engine(os.environ.get("DATABASE_URL", "sqlite://"))
validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", ""))
public_url = os.environ.get("PUBLIC_BASE_URL", "") + "/sms/inbound"
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'

app = Flask(__name__)


@app.post("/sms/inbound")
def inbound() -> Response:
    form = request.form.to_dict(flat=True)
    if not validator.validate(public_url, form, request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    row = {
        "provider_id": form["MessageSid"],
        "from_phone": form["From"],
        "body": form.get("Body", ""),
        "received_at": datetime.now(UTC),
    }
    with engine.begin() as connection:
        insert_skipping_duplicates(connection, texts, [row], ["provider_id"])
    return Response(EMPTY, mimetype="text/xml")


@app.get("/healthz")
def healthz() -> str:
    return "ok"
