"""Sending: each planned message at most once, checked again at send time.

The row is claimed atomically (``planned -> sending``), so two jobs for the
same row cannot both send. Everything that could have changed since the row
was planned is checked again at send time: what may still go out for the peer
(consent, pause, hold, goal and schedule: :mod:`service.outbox_rules`), the
allowed window (:mod:`service.quiet_hours`), lateness, the daily cap. A skipped
message records why. The hand-off just before the provider is called checks the
same rule once more, so a PAUSE or hold arriving after the claim still stops the
text.

``send_batch`` sends many rows at once on a thread pool, so a worker keeps
many provider requests in flight; the shared rate limiter spaces them out.
"""

from __future__ import annotations

import logging
import time as wallclock
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from service import metrics, queueing, quiet_hours
from service.delivery import apply_failure_side_effects
from service.gateways import GatewayError
from service.logs import handling_nudge
from service.messages import render_message
from service.milestones import week_summary
from service.models import (
    FAILED,
    PLANNED,
    SENDING,
    SENT,
    SKIPPED,
    Goal,
    MessageRotation,
    OutboundMessage,
    Peer,
)
from service.outbox_rules import (
    AUTOMATED_KINDS,
    REPLY,
    may_still_go_out,
    reply_may_still_go_out,
    withheld_now,
    withheld_reason,
)
from service.phones import last_four
from service.recurrence import local_instant
from service.runtime import Runtime, current_runtime
from workers.rate import RateLimiter

log = logging.getLogger(__name__)

DEFERRED_KINDS = quiet_hours.DEFERRED_KINDS  # sent when the window opens, not skipped
COUNTED_STATUSES = ("sending", "sent", "delivered", "undelivered")
MAX_ATTEMPTS = 6
BATCH_THREADS = 50  # a whole batch (queueing.BATCH_SIZE) in flight at once
# Rows are claimed at most this long before their rate slot.
CLAIM_AHEAD_SECONDS = 0.5


def send_nudge(message_id: int) -> str:
    """RQ job: send one outbound message by id; return what happened."""
    return send_message(current_runtime(), message_id)


def send_batch(message_ids: list[int]) -> dict[int, str]:
    """RQ job: send many messages concurrently; a transient failure re-raises for a retry."""
    return send_many(current_runtime(), message_ids)


@dataclass(frozen=True)
class Ready:
    """A claimed, checked and rendered message, waiting for its rate slot."""

    id: int
    to: str
    body: str
    kind: str
    slot: float


def send_many(runtime: Runtime, message_ids: list[int]) -> dict[int, str]:
    """Send a batch (the one path every send takes): claim, check and render many rows
    per transaction, send them in parallel, record the results in one more transaction.

    Rate slots are reserved first (as one message would), and only the rows whose
    slot is close are claimed at a time, so no row sits in ``sending`` while it
    waits for a slow rate: a STOP arriving meanwhile still cancels it.
    """
    planned = still_planned(runtime, message_ids)
    outcomes = {
        message_id: "not-planned" for message_id in message_ids if message_id not in planned
    }
    todo = [message_id for message_id in dict.fromkeys(message_ids) if message_id in planned]
    slots = deque(zip(todo, rate_limiter(runtime).reserve_many(len(todo)), strict=True))
    transient: list[GatewayError] = []
    with ThreadPoolExecutor(max_workers=min(BATCH_THREADS, max(1, len(todo)))) as pool:
        while slots:
            wait_until(slots[0][1] - CLAIM_AHEAD_SECONDS)
            horizon = wallclock.time() + CLAIM_AHEAD_SECONDS
            chunk = {}
            while slots and slots[0][1] <= horizon:
                message_id, slot = slots.popleft()
                chunk[message_id] = slot
            ready = claim_and_prepare(runtime, chunk, outcomes)
            results = list(pool.map(lambda item: provide(runtime, item), ready))
            record_results(runtime, results, outcomes, transient)
    if transient:
        raise transient[0]  # RQ retries the job; rows already sent are no longer planned
    return outcomes


def claim_and_prepare(
    runtime: Runtime, slots: dict[int, float], outcomes: dict[int, str]
) -> list[Ready]:
    """One transaction: claim the rows still planned, re-check each, render what may go."""
    now = runtime.now()
    ready, deferred, skipped = [], [], Counter()
    with runtime.session_factory() as session, session.begin():
        claimed = claim_many(session, list(slots), now)
        withheld = withheld_now(session, claimed, now)
        messages, peers = load_batch(session, claimed)
        seen: set[int | None] = set()
        with session.no_autoflush:  # one flush at commit, not one per message...
            for message in messages:
                if message.peer_id in seen:
                    session.flush()  # ...unless a peer's earlier message must count (daily cap)
                seen.add(message.peer_id)
                with handling_nudge(message.id):
                    peer = peers.get(message.peer_id)
                    why = withheld.get(message.id)
                    verdict = check_and_render(runtime, session, message, peer, now, why)
                if verdict is None:
                    body, slot = message.body or "", slots[message.id]
                    ready.append(Ready(message.id, message.to_phone, body, message.kind, slot))
                    continue
                outcomes[message.id] = verdict
                if verdict == "deferred":
                    deferred.append((message.id, message.due_at))
                elif verdict.startswith("skipped:"):
                    skipped[verdict[8:]] += 1
    for message_id in set(slots) - set(claimed):
        outcomes[message_id] = "not-planned"
    if deferred:
        queueing.enqueue_sends(runtime, deferred)
    for reason, number in skipped.items():
        metrics.count(runtime.redis, "peernudge_nudges_skipped", number, reason=reason)
    return ready


# A claim starts a fresh attempt: a row retried after a transient error was handed over
# last time, and its old hand-off must not make this attempt look cancelled.
def claim_values(now: datetime) -> dict:
    return {
        "status": SENDING,
        "attempts": OutboundMessage.attempts + 1,
        "claimed_at": now,
        "handed_at": None,
        "updated_at": now,
    }


def claim_many(session: Session, ids: list[int], now: datetime) -> list[int]:
    """planned -> sending for those of ``ids`` still planned, in one statement."""
    return list(
        session.scalars(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.status == PLANNED)
            .values(claim_values(now))
            .returning(OutboundMessage.id)
            .execution_options(synchronize_session=False)
        )
    )


def load_batch(
    session: Session, ids: list[int]
) -> tuple[list[OutboundMessage], dict[int | None, Peer]]:
    """The claimed rows with their peers, specialists, goals and wording rotations, in
    a few queries. The objects are held on purpose: the session's identity map keeps
    only weak references, and every later ``session.get`` should find them there.
    """
    messages = list(
        session.scalars(
            select(OutboundMessage).where(OutboundMessage.id.in_(ids)).order_by(OutboundMessage.id)
        )
    )
    peer_ids = {m.peer_id for m in messages if m.peer_id}
    peers = session.scalars(
        select(Peer).where(Peer.id.in_(peer_ids)).options(selectinload(Peer.specialist))
    ).all()
    goal_ids = {m.goal_id for m in messages if m.goal_id}
    session.info["held"] = [
        *session.scalars(select(Goal).where(Goal.id.in_(goal_ids))),
        *session.scalars(select(MessageRotation).where(MessageRotation.peer_id.in_(peer_ids))),
    ]
    return messages, {peer.id: peer for peer in peers}


def check_and_render(
    runtime: Runtime,
    session: Session,
    message: OutboundMessage,
    peer: Peer | None,
    now: datetime,
    withheld: str | None,
) -> str | None:
    """The send-time checks, then the body; None when the message may go now.

    A template that cannot render fails its own row, not the whole batch.
    """
    verdict = check_before_send(runtime, session, message, peer, now, withheld)
    if verdict is not None:
        return verdict
    if message.kind == "summary" and nothing_done_this_week(session, message, peer, now):
        return skip(message, "nothing_done_this_week", now)  # a summary never shames
    try:
        prepare_body(runtime, session, message, peer)
    except Exception:
        log.exception("message %s could not be rendered", message.id)
        message.status, message.error_code, message.updated_at = FAILED, "render", now
        return "failed:render"
    return None


def nothing_done_this_week(
    session: Session, message: OutboundMessage, peer: Peer | None, now: datetime
) -> bool:
    goal = session.get(Goal, message.goal_id) if message.goal_id else None
    if goal is None or peer is None:
        return False
    today = now.astimezone(ZoneInfo(peer.timezone)).date()
    return week_summary(session, goal, today)["done_days"] == 0


def wait_until(moment: float) -> None:
    delay = moment - wallclock.time()
    if delay > 0:
        wallclock.sleep(delay)


def provide(runtime: Runtime, item: Ready) -> tuple[Ready, str | GatewayError | None]:
    """Hand one message to the gateway at its slot: the provider id, the error, or None
    when it was cancelled or withheld (STOP, PAUSE, a hold...) after it was claimed."""
    with handling_nudge(item.id):
        wait_until(item.slot)
        if not mark_handed(runtime, item.id):
            return item, None
        callback = f"{runtime.settings.public_base_url}/sms/status"
        try:
            return item, runtime.gateway.send_sms(item.to, item.body, callback)
        except GatewayError as error:
            return item, error


def mark_handed(runtime: Runtime, message_id: int) -> bool:
    """Record that the provider is about to be called; False if the row was cancelled,
    or the rule (:mod:`service.outbox_rules`) withholds it now: then it is skipped.

    After a crash the reconciler knows a row without this never left: it is planned
    again instead of being written off as unconfirmed.
    """
    table = OutboundMessage.__table__
    now = runtime.now()
    claimed = and_(table.c.id == message_id, table.c.status == SENDING, table.c.handed_at.is_(None))
    with runtime.engine.begin() as connection:
        handed = connection.execute(
            table.update().where(claimed, may_still_go_out(now)).values(handed_at=now)
        ).rowcount
        withheld = None
        if not handed:
            withheld = connection.scalar(
                table.update()
                .where(claimed)
                .values(status=SKIPPED, skip_reason=withheld_reason(now), updated_at=now)
                .returning(table.c.skip_reason)
            )
    if withheld is not None:
        metrics.count(runtime.redis, "peernudge_nudges_skipped", reason=withheld)
    return handed == 1


def record_results(
    runtime: Runtime,
    results: list[tuple[Ready, str | GatewayError | None]],
    outcomes: dict[int, str],
    transient: list[GatewayError],
) -> None:
    """Sent rows in one statement; failures one by one (rare, each with its side effects)."""
    now = runtime.now()
    sent = [(item, result) for item, result in results if isinstance(result, str)]
    if sent:
        table = OutboundMessage.__table__
        with runtime.session_factory() as session, session.begin():
            session.execute(
                table.update()
                .where(table.c.id == bindparam("message_id"), table.c.status == SENDING)
                .values(
                    status=SENT, provider_id=bindparam("provider"), sent_at=now, updated_at=now
                ),
                [{"message_id": item.id, "provider": provider_id} for item, provider_id in sent],
            )
        for kind, number in Counter(item.kind for item, _ in sent).items():
            metrics.count(runtime.redis, "peernudge_nudges_sent", number, kind=kind)
        for item, _ in sent:
            outcomes[item.id] = "sent"
            with handling_nudge(item.id):
                log.info("message %s sent to %s", item.id, last_four(item.to))
    for item, result in results:
        if result is None:
            outcomes[item.id] = "cancelled"
        elif isinstance(result, GatewayError):
            try:
                outcomes[item.id] = record_failure(runtime, item.id, result)
            except GatewayError as error:
                outcomes[item.id] = "retry"
                transient.append(error)


def send_reply(runtime: Runtime, message_id: int) -> str:
    """Send one planned reply now: the short path of :func:`send_many` for an answer.

    Its body is written and it is not paced, so the claim and the hand-off are one
    UPDATE (still under the rule: a STOP handled first stops it), then the provider
    is called and the result recorded as for any send."""
    now = runtime.now()
    table = OutboundMessage.__table__
    with runtime.engine.begin() as connection:
        claimed = connection.execute(
            table.update()
            .where(table.c.id == message_id, table.c.status == PLANNED, reply_may_still_go_out())
            .values(claim_values(now) | {"handed_at": now})
            .returning(table.c.to_phone, table.c.body, table.c.kind)
        ).first()
    if claimed is None:
        return send_message(runtime, message_id)  # withheld or taken: the full path decides
    item = Ready(message_id, claimed.to_phone, claimed.body or "", claimed.kind, 0.0)
    callback = f"{runtime.settings.public_base_url}/sms/status"
    try:
        result: str | GatewayError = runtime.gateway.send_sms(item.to, item.body, callback)
    except GatewayError as error:
        result = error
    outcomes: dict[int, str] = {}
    transient: list[GatewayError] = []
    record_results(runtime, [(item, result)], outcomes, transient)
    if transient:
        raise transient[0]
    return outcomes[message_id]


def send_message(runtime: Runtime, message_id: int) -> str:
    """Send one message if it is still planned and still appropriate (a batch of one)."""
    return send_many(runtime, [message_id])[message_id]


_limiters: dict[tuple[int, str], RateLimiter] = {}


def rate_limiter(runtime: Runtime) -> RateLimiter:
    """One limiter per sending identity, shared through Redis by every worker."""
    settings = runtime.settings
    sender = settings.twilio_messaging_service_sid or settings.twilio_from_number or "simulator"
    key = (id(runtime), sender)
    if key not in _limiters:
        _limiters[key] = RateLimiter(runtime.redis, sender, settings.sms_max_per_second)
    return _limiters[key]


def still_planned(runtime: Runtime, message_ids: list[int]) -> set[int]:
    """Those of the ids still planned: a job for a row already handled costs no rate slot."""
    with runtime.session_factory() as session:
        return set(
            session.scalars(
                select(OutboundMessage.id).where(
                    OutboundMessage.id.in_(message_ids), OutboundMessage.status == PLANNED
                )
            )
        )


def claim(runtime: Runtime, message_id: int, now: datetime) -> bool:
    """planned -> sending, atomically; False when someone else has it or it is done."""
    with runtime.session_factory() as session, session.begin():
        return claim_many(session, [message_id], now) == [message_id]


def skip(message: OutboundMessage, reason: str, now: datetime) -> str:
    message.status = SKIPPED
    message.skip_reason = reason
    message.updated_at = now
    return f"skipped:{reason}"


def check_before_send(
    runtime: Runtime,
    session: Session,
    message: OutboundMessage,
    peer: Peer | None,
    now: datetime,
    withheld: str | None,
) -> str | None:
    """None when the message may go now; otherwise the outcome it was given.

    ``withheld`` is the rule's verdict for the row (consent, pause, hold, goal).
    """
    if withheld is not None:
        return skip(message, withheld, now)
    if message.kind == REPLY:
        return None  # an answer goes to whoever wrote, known or not
    if peer is None:
        return skip(message, "not_opted_in", now)
    if message.kind not in AUTOMATED_KINDS and message.kind not in DEFERRED_KINDS:
        return None
    if message.kind in AUTOMATED_KINDS and too_late(runtime, message, now):
        return skip(message, "missed_window", now)  # hours late is worse than not at all
    if not quiet_hours.allows(runtime.settings, peer, now):
        if message.kind in DEFERRED_KINDS:
            return defer_to_window(
                message, quiet_hours.next_opening(runtime.settings, peer, now), now
            )
        return skip(message, "quiet_hours", now)
    local = now.astimezone(ZoneInfo(peer.timezone))
    cap = runtime.settings.daily_message_cap
    if message.kind in AUTOMATED_KINDS and sent_today(session, peer, message, local) >= cap:
        return skip(message, "daily_cap", now)
    return None


def too_late(runtime: Runtime, message: OutboundMessage, now: datetime) -> bool:
    return message.due_at < now - timedelta(minutes=runtime.settings.missed_grace_minutes)


def defer_to_window(message: OutboundMessage, opens: datetime, now: datetime) -> str:
    """Put a message back as planned for ``opens``, when the peer's window next opens."""
    message.status = PLANNED
    message.due_at = opens
    message.updated_at = now
    return "deferred"


# Built once: it runs for every automated message, and building it costs more than running it.
SENT_SINCE = select(func.count(OutboundMessage.id)).where(
    OutboundMessage.peer_id == bindparam("peer_id"),
    OutboundMessage.id != bindparam("message_id"),
    OutboundMessage.kind.in_(AUTOMATED_KINDS),
    OutboundMessage.status.in_(COUNTED_STATUSES),
    OutboundMessage.claimed_at >= bindparam("since"),
)


def sent_today(session: Session, peer: Peer, message: OutboundMessage, local: datetime) -> int:
    """Automated messages sent (or being sent) to the peer since local midnight, not this one."""
    midnight = local_instant(local.date(), time(0), local.tzinfo)  # type: ignore[arg-type]
    values = {"peer_id": peer.id, "message_id": message.id, "since": midnight}
    return session.scalar(SENT_SINCE, values) or 0


def prepare_body(
    runtime: Runtime, session: Session, message: OutboundMessage, peer: Peer | None
) -> None:
    """Render the body now, if it was not fixed when the message was planned."""
    if message.body:
        return
    goal = session.get(Goal, message.goal_id) if message.goal_id else None
    context = {"goal": goal.text if goal else ""}
    if message.kind == "summary" and goal is not None:
        today = runtime.now().astimezone(ZoneInfo(peer.timezone)).date()
        context |= week_summary(session, goal, today)
    rendered = render_message(session, message.kind, peer, runtime.settings, **context)
    message.body = rendered.body
    message.template = rendered.template
    message.segments = rendered.segments
    message.encoding = rendered.encoding


def record_failure(runtime: Runtime, message_id: int, error: GatewayError) -> str:
    """Permanent: failed, with its side effect. Transient: planned again and re-raised."""
    now = runtime.now()
    with runtime.session_factory() as session, session.begin():
        message = session.get(OutboundMessage, message_id)
        message.error_code = error.code
        message.error_message = str(error)[:255]
        retry = not error.permanent and message.attempts < MAX_ATTEMPTS
        message.status = PLANNED if retry else FAILED
        message.updated_at = now
        if not retry:
            apply_failure_side_effects(session, message, error.code, now)
    log.warning("message %s failed (%s): %s", message_id, "retry" if retry else "final", error)
    outcome = "peernudge_nudges_retried" if retry else "peernudge_nudges_failed"
    metrics.count(runtime.redis, outcome, code=error.code or "none")
    if retry:
        raise error  # RQ's Retry runs the job again after a backoff
    return f"failed:{error.code}"
