"""A peer who tells a specialist to stop (in person, on the phone) is opted out like a STOP."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from service import reports
from service.models import (
    OPTED_OUT,
    PLANNED,
    AuditEvent,
    ConsentEvent,
    Flag,
    OutboundMessage,
    Peer,
)
from tests.conftest import sign_in
from tests.test_dashboard import token


def opt_out_form(client, peer: int, **change) -> dict:
    return {"csrf_token": token(client, f"/peers/{peer}"), "told_by": "phone_call",
            "confirm": "yes"} | change  # fmt: skip


def planned_for(runtime, peer: int) -> int:
    with runtime.session_factory() as session:
        return session.scalar(
            select(func.count(OutboundMessage.id)).where(
                OutboundMessage.peer_id == peer, OutboundMessage.status == PLANNED
            )
        )


def test_recording_that_the_peer_asked_to_stop_opts_them_out_and_cancels_their_texts(
    client, runtime, specialist, peer
):
    sign_in(client)
    assert planned_for(runtime, peer) > 0  # the welcome, at least
    response = client.post(f"/peers/{peer}/opt-out", data=opt_out_form(client, peer))
    assert response.status_code == 303
    assert "no more texts" in client.get(f"/peers/{peer}").get_data(as_text=True)
    assert planned_for(runtime, peer) == 0
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).consent == OPTED_OUT
        event = session.scalar(select(ConsentEvent).where(ConsentEvent.kind == "opt_out"))
        assert (event.source, event.detail, event.recorded_by) == (
            "specialist", "on a phone call", specialist
        )  # fmt: skip
        assert session.scalar(select(func.count(Flag.id)).where(Flag.kind == "opted_out")) == 0
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "opt_out_recorded" in actions


def test_it_counts_in_the_program_report_as_the_specialist_route(client, runtime, peer):
    sign_in(client)
    client.post(f"/peers/{peer}/opt-out", data=opt_out_form(client, peer, told_by="in_person"))
    now = runtime.now()
    today = now.date()
    window = reports.ReportRange(today - timedelta(days=1), today + timedelta(days=1))
    with runtime.session_factory() as session:
        report = reports.Report.build(session, runtime.settings, window, None, now, today)
        people = reports.summary(report)["people"]
    assert people["opted_out_by_route"]["specialist"] == 1


def test_without_saying_how_or_confirming_nothing_is_recorded(client, runtime, peer):
    sign_in(client)
    for change in ({"told_by": "telepathy"}, {"told_by": ""}, {"confirm": ""}):
        response = client.post(f"/peers/{peer}/opt-out", data=opt_out_form(client, peer, **change))
        assert response.status_code == 303
        assert "Not recorded" in client.get(f"/peers/{peer}").get_data(as_text=True)
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).consent != OPTED_OUT
        assert session.scalar(select(func.count(ConsentEvent.id)).where(
            ConsentEvent.kind == "opt_out")) == 0  # fmt: skip
    assert planned_for(runtime, peer) > 0


def test_another_caseloads_peer_is_not_found(client, runtime, peer, outsider):
    sign_in(client, "casey@example.org")
    csrf = token(client, "/")
    response = client.post(
        f"/peers/{peer}/opt-out",
        data={"csrf_token": csrf, "told_by": "in_person", "confirm": "yes"},
    )
    assert response.status_code == 404
    with runtime.session_factory() as session:
        assert session.get(Peer, peer).consent != OPTED_OUT
