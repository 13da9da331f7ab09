"""Structured logs and Prometheus metrics: what an operator sees, and what never leaks."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.logs import configure_logging, mask_phones
from service.models import Flag
from tests.conftest import enrol
from tests.inbound_worker import post_text
from tests.signing import inbound_form
from tests.test_sender import plan
from workers.sender import send_message

METRICS_TOKEN = "metrics-token-0123456789"
PHONE = "+12125550134"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    yield stream
    configure_logging("text", "INFO")


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_phone_numbers_are_masked_to_their_last_four_digits():
    assert mask_phones("to +12125550134, tel:+447700900123") == "to ...0134, tel:...0123"
    assert mask_phones("message 12345 at 2026-06-15") == "message 12345 at 2026-06-15"


def test_json_logs_carry_the_request_id_and_never_a_full_number(app, client, log_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "req-42"})
    logging.getLogger("service.test").warning("provider said: %s is unreachable", PHONE)

    assert response.headers["X-Request-ID"] == "req-42"
    lines = records(log_lines)
    request_line = next(line for line in lines if "/healthz" in line["message"])
    assert request_line["request_id"] == "req-42"
    assert request_line["level"] == "INFO"
    assert all(PHONE not in json.dumps(line) for line in lines)
    assert any("...0134 is unreachable" in line["message"] for line in lines)


def test_a_hostile_request_id_is_replaced_by_a_fresh_one(client):
    response = client.get("/healthz", headers={"X-Request-ID": "<script>" * 20})
    assert "<" not in response.headers["X-Request-ID"]
    assert len(response.headers["X-Request-ID"]) == 32


def test_sending_logs_the_nudge_id_without_the_body_or_number(
    twilio_runtime, specialist, clock, log_lines
):
    clock.set(clock.current.replace(hour=16))
    peer = enrol(twilio_runtime, specialist, goal="call my sponsor")
    message_id = plan(twilio_runtime, peer)

    assert send_message(twilio_runtime, message_id) == "sent"

    lines = [line for line in records(log_lines) if line.get("nudge_id") == message_id]
    assert lines, "the send was logged with its nudge id"
    text = log_lines.getvalue()
    assert PHONE not in text and "sponsor" not in text


def scrape(client, token: str | None = METRICS_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/metrics", headers=headers)


def samples(response) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def metrics_app(settings, clock):
    from service import create_app
    from service.runtime import set_runtime

    app = create_app(settings.with_overrides(metrics_token=METRICS_TOKEN))
    app.extensions["peernudge"].now = clock
    set_runtime(app.extensions["peernudge"])
    yield app
    set_runtime(None)
    app.extensions["peernudge"].close()


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(client, metrics_app):
    assert scrape(client).status_code == 404  # the default app has no METRICS_TOKEN
    metrics_client = metrics_app.test_client()
    assert scrape(metrics_client, None).status_code == 401
    assert scrape(metrics_client, "not-the-token-at-all").status_code == 401
    assert scrape(metrics_client).status_code == 200


def test_metrics_count_sends_skips_webhooks_queue_and_flags(metrics_app, specialist, clock):
    runtime = metrics_app.extensions["peernudge"]
    client = metrics_app.test_client()
    clock.set(clock.current.replace(hour=16))  # noon in New York
    peer = enrol(runtime, specialist)
    sent = plan(runtime, peer)
    assert send_message(runtime, sent) == "sent"
    clock.set(clock.current.replace(hour=5))  # 1 a.m. in New York: quiet hours
    assert send_message(runtime, plan(runtime, peer)).startswith("skipped:quiet_hours")
    assert post_text(client, inbound_form("I want to end my life")).status_code
    runtime.queue.enqueue("workers.sender.send_nudge", 1)

    found = samples(scrape(client))

    assert found[("peernudge_nudges_sent_total", (("kind", "checkin"),))] == 1
    assert found[("peernudge_nudges_skipped_total", (("reason", "quiet_hours"),))] == 1
    assert found[("peernudge_inbound_messages_total", ())] == 1
    assert found[("peernudge_webhook_duration_seconds_count", (("endpoint", "inbound"),))] == 1
    assert found[("peernudge_queue_depth", ())] >= 1
    with runtime.session_factory() as session:
        crisis_flags = session.query(Flag).filter_by(kind="crisis").count()
    assert crisis_flags == 1
    assert found[("peernudge_open_flags", (("kind", "crisis"), ("urgent", "true")))] == 1
    consent_key = ("peernudge_consent_changes_total", (("kind", "opt_in"), ("source", "enrolment")))
    assert found.get(consent_key) == 1
