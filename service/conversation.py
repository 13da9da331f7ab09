"""What a text means and what it does: understand it, apply it, write the answer.

A stored text (``service/inbound.py`` stores it, a worker calls
:func:`handle_next`) is handled once: the row is claimed (``handled_at``) in the
same transaction as everything it causes (consent, check-in, pause, flag) and
the reply, written as a planned outbound row the worker then sends. A sender's
texts are handled oldest first, so "DONE" then "PAUSE" take effect in that
order; a crash before the commit leaves the text unhandled, and it is handled
again, whole, by the next job.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service import alerts, flags, peer_changes, plans, quiet_hours
from service.consent import record_opt_in, record_opt_out
from service.inbound import IncomingSms
from service.messages import render_message, segment_count
from service.milestones import milestone_for_checkin
from service.models import (
    OPTED_IN,
    OPTED_OUT,
    PLANNED,
    SENDING,
    AuditEvent,
    CheckIn,
    Flag,
    Goal,
    InboundMessage,
    Mood,
    OutboundMessage,
    Peer,
)
from service.outbox_rules import REPLY
from service.phones import last_four
from service.recurrence import schedule_shape
from service.runtime import Runtime
from service.understanding import Reading, bare_number, read
from service.understanding.context import CONTEXT_LIFETIME, TIME_QUESTION, Context

log = logging.getLogger(__name__)

# Loop guard: a person never needs this many answers in an hour; an auto-responder
# talking to us would. Beyond it, and for a text that echoes our own words, we stay quiet.
MAX_REPLIES_PER_HOUR = 30


@dataclass
class Turn:
    """One inbound message being handled: the context every handler needs."""

    runtime: Runtime
    session: Session
    sms: IncomingSms
    inbound: InboundMessage
    peer: Peer | None
    reading: Reading
    now: datetime
    extra_replies: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)  # each part of the reply, in order
    previous_question: str | None = None  # what we had asked before this text
    after_commit: list[tuple[int, datetime]] = field(default_factory=list)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(ZoneInfo(self.peer.timezone)) if self.peer else self.now

    def reply(self, kind: str, **context: Any) -> str:
        """Render a reply for this peer (or unknown number) and keep it in the thread."""
        rendered = render_message(
            self.session, kind, self.peer, self.runtime.settings, phone=self.sms.from_phone,
            language=self.reading.language, **context,
        )  # fmt: skip
        self.templates.append(rendered.template)
        return rendered.body

    def audit(self, action: str, **detail: Any) -> None:
        self.session.add(
            AuditEvent(
                actor="peer",
                peer_id=self.peer.id if self.peer else None,
                action=action,
                detail=detail or None,
                created_at=self.now,
            )
        )


@dataclass(frozen=True)
class Handled:
    """What handling one text left for after its commit."""

    inbound_id: int
    phone: str
    peer_id: int | None
    reply_id: int | None  # the planned reply, for the worker to send now
    sends: list[tuple[int, datetime]]  # other rows to queue (a snoozed check-in)
    opted_out: bool


def handle_next(runtime: Runtime, phone: str) -> Handled | None:
    """Handle the oldest unhandled text from ``phone``; None when there is none left."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return _handle_next(runtime, phone)
        except IntegrityError:
            # A change elsewhere won a race for some row this text writes (on PostgreSQL
            # two transactions really run at once): it is handled again from scratch.
            if attempt == CONFLICT_ATTEMPTS:
                raise
            log.info("inbound sms conflicted with a concurrent change; handling it again")
    return None


def _handle_next(runtime: Runtime, phone: str) -> Handled | None:
    with runtime.session_factory() as session, session.begin():
        while True:
            inbound = session.scalar(NEXT_UNHANDLED, {"phone": phone})
            if inbound is None:
                return None
            now = runtime.now()
            if claim(session, inbound, now):
                break  # else another worker took it a moment ago: look at the next one
        turn = _new_turn(runtime, session, inbound, now)
        reply = respond(turn)
        inbound.reply_body = reply
        message = record_reply(turn, reply) if reply else None
        session.flush()
        opted_out = turn.peer is not None and (
            turn.reading.intent == "opt_out" or turn.reading.also_opt_out
        )
        return Handled(
            inbound.id,
            inbound.from_phone,
            turn.peer.id if turn.peer else None,
            message.id if message else None,
            turn.after_commit,
            opted_out,
        )


NEXT_UNHANDLED = (
    select(InboundMessage)
    .where(InboundMessage.from_phone == bindparam("phone"), InboundMessage.handled_at.is_(None))
    .order_by(InboundMessage.id)
    .limit(1)
)


def has_unhandled(runtime: Runtime, phone: str) -> bool:
    """Whether a text from ``phone`` is still waiting to be handled."""
    with runtime.session_factory() as session:
        return (
            session.scalar(NEXT_UNHANDLED.with_only_columns(InboundMessage.id), {"phone": phone})
            is not None
        )


def claim(session: Session, inbound: InboundMessage, now: datetime) -> bool:
    """Mark the text handled, in the transaction that handles it: exactly once."""
    claimed = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound.id, InboundMessage.handled_at.is_(None))
        .values(handled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        set_committed_value(inbound, "handled_at", now)  # written already: not again at flush
    else:
        session.expire(inbound)
    return claimed == 1


CONFLICT_ATTEMPTS = 5


IN_FLIGHT_WAIT_SECONDS = 5.0


def wait_for_in_flight(runtime: Runtime, peer_id: int) -> None:
    """Before acknowledging STOP, let a send already handed to a worker finish.

    A nudge claimed a moment before the STOP may be on its way to the provider;
    waiting for it (briefly) means nothing reaches the peer after our answer.
    """
    deadline = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
    while time.monotonic() < deadline:
        with runtime.session_factory() as session:
            sending = session.scalar(
                select(func.count(OutboundMessage.id)).where(
                    OutboundMessage.peer_id == peer_id, OutboundMessage.status == SENDING
                )
            )
        if not sending:
            return
        time.sleep(0.05)
    log.warning("a send to peer %s was still in flight when STOP was answered", peer_id)


def _new_turn(runtime: Runtime, session: Session, inbound: InboundMessage, now: datetime) -> Turn:
    sms = IncomingSms(
        provider_id=inbound.provider_id,
        from_phone=inbound.from_phone,
        to_phone=inbound.to_phone,
        body=inbound.body,
        num_media=inbound.num_media,
        media=tuple(inbound.media or ()),
        opt_out_type=inbound.opt_out_type,
    )
    peer = session.scalar(select(Peer).where(Peer.phone == sms.from_phone))
    reading = TWILIO_KEYWORD_READINGS.get(sms.opt_out_type or "") or read(
        sms.body, reader_context(peer, now)
    )
    inbound.peer_id = peer.id if peer else None
    inbound.intent, inbound.confidence = reading.intent, reading.confidence
    inbound.language = reading.language
    return Turn(runtime, session, sms, inbound, peer, reading, now)


def reader_context(peer: Peer | None, now: datetime) -> Context:
    """What the reader needs to know about the sender: language, consent, goals, question."""
    if peer is None:
        return Context(consent="unknown")
    fresh = peer.asked_at is not None and now - peer.asked_at <= CONTEXT_LIFETIME
    return Context(
        language=peer.language,
        consent=peer.consent,
        goals=tuple(goal.text for goal in peer.goals if goal.active),
        asked=peer.asked if fresh else None,
    )


# Twilio's Advanced Opt-Out recognised a keyword (perhaps one configured there that we
# do not know): its verdict binds, and Twilio has already answered the peer.
TWILIO_KEYWORD_READINGS = {
    "STOP": Reading("opt_out", 1.0, "en"),
    "START": Reading("opt_in", 1.0, "en"),
    "HELP": Reading("help", 1.0, "en"),
}
CRISIS_INTENTS = {"crisis", "possible_crisis"}


def respond(turn: Turn) -> str | None:
    """Apply the message's effects and choose the reply (None: stay silent)."""
    if turn.sms.opt_out_type:  # Twilio matched the keyword and has answered the peer itself
        record_twilio_keyword(turn)
        return None
    staff = alerts.handle_staff_text(
        turn.session, turn.runtime, turn.sms.from_phone, turn.sms.body, turn.now
    )
    if staff is not None:  # a staff member's phone (ACK): never a peer's or a stranger's text
        return staff or None
    intent = turn.reading.intent
    if intent in CRISIS_INTENTS:  # crisis first, whoever writes and whatever else it says
        return with_extra_replies(turn, answer_crisis(turn))
    if intent == "opt_out" and not echoes_us(turn):  # our own "reply STOP" echoed is no STOP
        return handle_opt_out(turn)
    if turn.peer is None:
        return unknown_number(turn)
    if turn.peer.consent == OPTED_OUT:
        return while_opted_out(turn)
    if loop_guard_tripped(turn):
        return None
    turn.previous_question = turn.peer.asked
    remember_question(turn, None)  # a question is answered once, by the next text
    handler = HANDLERS.get(intent, handle_other)
    return handler(turn)


def with_extra_replies(turn: Turn, reply: str | None) -> str | None:
    """The reply, followed by any further answer the same text needed (a STOP's)."""
    parts = [part for part in (reply, *turn.extra_replies) if part]
    return "\n\n".join(parts) or None


def remember_question(turn: Turn, question: str | None) -> None:
    """Keep the question we are asking so the next text can answer it (or forget it)."""
    turn.peer.asked = question
    turn.peer.asked_at = turn.now if question else None


# --- consent -----------------------------------------------------------------------


def record_twilio_keyword(turn: Turn) -> None:
    """The effects of a keyword Twilio's Advanced Opt-Out answered; no reply of ours."""
    if turn.reading.intent == "opt_out":
        opt_out(turn)
    elif (
        turn.reading.intent == "opt_in" and turn.peer is not None and turn.peer.consent == OPTED_OUT
    ):
        opt_in(turn)


def keyword_detail(turn: Turn) -> str:
    return f"keyword (twilio {turn.sms.opt_out_type})" if turn.sms.opt_out_type else "keyword"


def opt_out(turn: Turn) -> bool:
    """Record the opt-out; True when the peer had opted out already."""
    already = turn.peer is not None and turn.peer.consent == OPTED_OUT
    record_opt_out(
        turn.session, turn.sms.from_phone, turn.peer, "sms", turn.now, keyword_detail(turn),
        inbound_message_id=turn.inbound.id,
    )  # fmt: skip
    if turn.peer is not None:
        turn.audit("opted_out")
    return already


def handle_opt_out(turn: Turn) -> str | None:
    """Opt out at once; exactly one confirmation."""
    return None if opt_out(turn) else turn.reply("opt_out")


def opt_in(turn: Turn) -> None:
    record_opt_in(
        turn.session, turn.sms.from_phone, turn.peer, "sms", turn.now, keyword_detail(turn)
    )
    release_unclear_hold(turn)
    peer_changes.restart_schedules(turn.session, turn.peer, turn.now)
    turn.audit("opted_in")
    resolve_opted_out_flag(turn)


def resolve_opted_out_flag(turn: Turn) -> None:
    """Texting START answers the "Opted out" flag: it is closed, and the change log says
    the peer did it, so an active peer never sits beside an open "Opted out"."""
    word = " ".join(turn.sms.body.split()).upper()
    note = f"the peer texted {word if 0 < len(word) <= 12 else 'START'}"
    for flag in flags.resolve_open(turn.session, turn.peer.id, "opted_out", turn.now, note):
        turn.session.flush()  # the flag's id, for the change log
        turn.audit("flag_resolved", flag=flag.id, kind=flag.kind)
        alerts.close_for_flag(turn.session, flag.id, turn.now)


def handle_opt_in(turn: Turn) -> str:
    opt_in(turn)
    return turn.reply("opt_in")


def while_opted_out(turn: Turn) -> str | None:
    """After STOP nothing is sent, except answers to START and HELP (crisis comes first)."""
    if turn.reading.intent == "opt_in":  # YES and SI from an opted-out peer read as opt-in
        return handle_opt_in(turn)
    if turn.reading.intent == "help":
        return turn.reply("help")
    return None


def unknown_number(turn: Turn) -> str | None:
    """A number that is not a peer: HELP gets an answer (at most hourly), nothing else
    does (crisis language and STOP are handled before)."""
    if turn.reading.intent != "help" or replied_within(turn, timedelta(hours=1)):
        return None
    return turn.reply("unknown_number_help")


# --- safety ------------------------------------------------------------------------


def answer_crisis(turn: Turn) -> str:
    """The crisis line at once; for a peer also an urgent flag and a hold. A STOP in the
    same text is honoured after the crisis answer."""
    if turn.peer is None:
        log.warning(
            "crisis language from a number that is not enrolled (...%s)",
            last_four(turn.sms.from_phone),
        )
        reply = turn.reply("unknown_number_crisis")
    else:
        reply = handle_crisis(turn)
    if turn.reading.also_opt_out and not opt_out(turn):
        turn.extra_replies.append(turn.reply("opt_out"))
    return reply


def handle_crisis(turn: Turn) -> str:
    """The crisis line and the specialist's name, an urgent flag, automation held a day.

    An uncertain reading is a *possible* crisis: the same flag and hold, marked so, and
    a gentler answer that still gives the crisis line; never a cheerful template.
    """
    possible = turn.reading.intent == "possible_crisis"
    turn.session.add(
        flag := Flag(
            peer_id=turn.peer.id,
            kind=turn.reading.intent,
            urgent=True,
            detail="possible crisis language in a text"
            if possible
            else "crisis language in a text",
            inbound_message_id=turn.inbound.id,
            created_at=turn.now,
        )
    )
    peer_changes.hold(turn.session, turn.peer, turn.now + CRISIS_HOLD, turn.now, "crisis_hold")
    turn.audit("crisis_hold", until=turn.peer.hold_until.isoformat(), possible=possible)
    reach = alerts.open_alert(turn.session, turn.runtime, flag, turn.now)  # staff are told
    told = {"told": reach.told, "seen_at": reach.seen_at}
    if turn.peer.consent == OPTED_OUT:
        return turn.reply("crisis", **told)
    return turn.reply("possible_crisis" if possible else "crisis", **told)


CRISIS_HOLD = timedelta(hours=24)
# An unclear opt-out holds automated texts until the peer or the specialist resolves it.
UNCLEAR_HOLD = timedelta(days=60)


def release_unclear_hold(turn: Turn) -> None:
    """An unclear opt-out is resolved: lift its hold and close its review flag."""
    peer = turn.peer
    if peer is None or not peer_changes.release_hold(
        turn.session, peer, "opt_out_unclear", turn.now
    ):
        return
    flags.resolve_open(turn.session, peer.id, "possible_opt_out", turn.now)
    turn.audit("hold_released", reason="opt_out_unclear")


def handle_unclear_opt_out(turn: Turn) -> str | None:
    """ "Too many texts": nothing automated until it is resolved, one question, a flag."""
    already_asked = turn.peer.hold_reason == "opt_out_unclear" and turn.peer.hold_until
    peer_changes.hold(turn.session, turn.peer, turn.now + UNCLEAR_HOLD, turn.now, "opt_out_unclear")
    open_flag(turn, "possible_opt_out", "may want fewer texts or none")
    turn.audit("opt_out_unclear")
    if already_asked and turn.peer.hold_until > turn.now:
        return None  # one clarifying text, not one per message
    remember_question(turn, "opt_out_unclear")
    return turn.reply("opt_out_check")


def handle_keep(turn: Turn) -> str:
    release_unclear_hold(turn)
    return turn.reply("keep")


def handle_fewer(turn: Turn) -> str:
    """Fewer texts: extra encouragement stops at once, and the specialist is told so the
    check-in plan can be changed with the peer."""
    release_unclear_hold(turn)
    if turn.peer.encouragement != "off":
        plans.set_encouragement(turn.session, turn.runtime.settings, turn.peer, "off", turn.now)
    open_flag(turn, "fewer", "asked for fewer texts")
    turn.audit("fewer")
    return turn.reply("fewer")


def replied_within(turn: Turn, window: timedelta) -> int:
    return turn.session.scalar(
        select(func.count(OutboundMessage.id)).where(
            OutboundMessage.to_phone == turn.sms.from_phone,
            OutboundMessage.kind == "reply",
            OutboundMessage.created_at >= turn.now - window,
        )
    )


def echoes_us(turn: Turn) -> bool:
    """True when the text repeats one of our own messages from the last hour."""
    body = turn.sms.body.strip()
    return (
        bool(body)
        and turn.session.scalar(
            select(func.count(OutboundMessage.id)).where(
                OutboundMessage.to_phone == turn.sms.from_phone,
                OutboundMessage.body == body,
                OutboundMessage.created_at >= turn.now - timedelta(hours=1),
            )
        )
        > 0
    )


def loop_guard_tripped(turn: Turn) -> bool:
    """Stay quiet for an auto-responder: an echo of us, or too many answers this hour."""
    if not echoes_us(turn) and replied_within(turn, timedelta(hours=1)) < MAX_REPLIES_PER_HOUR:
        return False
    log.warning("loop guard: no reply to %s", last_four(turn.sms.from_phone))
    return True


# --- check-ins ---------------------------------------------------------------------


def active_goals(turn: Turn) -> list[Goal]:
    return [goal for goal in turn.peer.goals if goal.active]


def open_goals(turn: Turn) -> list[Goal]:
    """Goals with a check-in sent since local midnight and not yet answered today."""
    goals = active_goals(turn)
    midnight = turn.local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    asked = set(
        turn.session.scalars(
            select(OutboundMessage.goal_id).where(
                OutboundMessage.peer_id == turn.peer.id,
                OutboundMessage.kind == "checkin",
                OutboundMessage.sent_at >= midnight,
            )
        )
    )
    answered = set(
        turn.session.scalars(
            select(CheckIn.goal_id).where(
                CheckIn.peer_id == turn.peer.id, CheckIn.local_date == turn.local_now.date()
            )
        )
    )
    return [goal for goal in goals if goal.id in asked and goal.id not in answered]


def pick_goal(turn: Turn) -> Goal | str:
    """The goal an answer is about, or the reply asking which one (kept as the question,
    so a bare "2" next answers it)."""
    goals = active_goals(turn)
    if not goals:
        return turn.reply("ack")
    if turn.reading.number is not None:
        chosen = [goal for goal in goals if goal.position == turn.reading.number]
        return chosen[0] if chosen else ask_which_goal(turn)
    candidates = open_goals(turn) or goals
    if len(candidates) == 1:
        return candidates[0]
    return ask_which_goal(turn)


def ask_which_goal(turn: Turn) -> str:
    remember_question(turn, f"which_goal:{turn.reading.intent}")
    return turn.reply("which_goal", goals=goal_lines(turn))


def ambiguous_number(turn: Turn) -> str | None:
    """ "PAUSE 2" (or SKIP 2, LATER 2) with several goals: goal 2, or 2 days (hours)?
    Asked once: the same text again right after takes the usual meaning (days for PAUSE,
    the goal for SKIP and LATER)."""
    number, goals = turn.reading.number, active_goals(turn)
    if turn.reading.scope or number is None or len(goals) < 2 or number > len(goals):
        return None
    if not bare_number(turn.sms.body):
        return None
    question = f"number:{turn.reading.intent}:{number}"
    if asked_just_now(turn, question):
        return None
    remember_question(turn, question)
    goal = next(g for g in goals if g.position == number)
    return turn.reply("which_number", intent=turn.reading.intent, number=number, goal=goal.text)


def asked_just_now(turn: Turn, question: str) -> bool:
    """True when the last text already asked this very question (ask once, not twice)."""
    return turn.previous_question == question


def record_check_in(turn: Turn, goal: Goal, result: str) -> CheckIn:
    """One check-in per goal per local day; answering again updates it."""
    today = turn.local_now.date()
    check_in = turn.session.scalar(
        select(CheckIn).where(CheckIn.goal_id == goal.id, CheckIn.local_date == today)
    )
    if check_in is None:
        check_in = CheckIn(
            goal_id=goal.id,
            peer_id=turn.peer.id,
            local_date=today,
            result=result,
            created_at=turn.now,
        )
        turn.session.add(check_in)
    check_in.result = result
    check_in.inbound_message_id = turn.inbound.id
    check_in.updated_at = turn.now
    turn.session.flush()
    return check_in


def handle_done(turn: Turn) -> str:
    if turn.reading.scope == "all":  # "both" after "Which one?"
        return answer_every_goal(turn, "done", "done")
    goal = pick_goal(turn)
    if isinstance(goal, str):
        return goal
    record_check_in(turn, goal, "done")
    milestone = milestone_for_checkin(turn.session, goal, turn.local_now.date())
    if milestone is not None:
        kind, context = milestone
        return turn.reply(kind, goal=goal.text, **context)
    return turn.reply("done", goal=goal.text)


def answer_check_in(turn: Turn, result: str, reply_kind: str) -> str:
    """Record not-yet or rest for the goal asked about, and answer kindly."""
    if turn.reading.scope == "all":
        return answer_every_goal(turn, result, reply_kind)
    goal = pick_goal(turn)
    if isinstance(goal, str):
        return goal
    record_check_in(turn, goal, result)
    return turn.reply(reply_kind, goal=goal.text)


def answer_every_goal(turn: Turn, result: str, reply_kind: str) -> str:
    """One answer for every active goal ("both", "all of them")."""
    goals = active_goals(turn)
    for goal in goals:
        record_check_in(turn, goal, result)
    return turn.reply(reply_kind, goal=" / ".join(goal.text for goal in goals))


def handle_mood(turn: Turn) -> str:
    today = turn.local_now.date()
    mood = turn.session.scalar(
        select(Mood).where(Mood.peer_id == turn.peer.id, Mood.local_date == today)
    )
    if mood is None:
        mood = Mood(peer_id=turn.peer.id, local_date=today, created_at=turn.now, score=0)
        turn.session.add(mood)
    mood.score = turn.reading.number or 0
    if mood.score == 1:
        open_flag(turn, "low_mood", "texted a mood of 1 out of 5")
    return turn.reply("mood", mood=mood.score)


# --- peer-owned changes ------------------------------------------------------------


def handle_pause(turn: Turn) -> str:
    if (question := ambiguous_number(turn)) is not None:
        return question
    if turn.reading.scope == "goal":
        return pause_one_goal(turn)
    days = turn.reading.number or DEFAULT_PAUSE_DAYS
    until = peer_changes.pause(turn.session, turn.peer, days, turn.now)
    turn.audit("paused", days=days, until=until.isoformat())
    return turn.reply("pause", days=days, until=until.astimezone(ZoneInfo(turn.peer.timezone)))


DEFAULT_PAUSE_DAYS = 7


def pause_one_goal(turn: Turn) -> str:
    """Pause only the goal named (after "PAUSE 2" and "goal"), for the default week."""
    goal = next(g for g in active_goals(turn) if g.position == turn.reading.number)
    until = peer_changes.pause_goal(turn.session, turn.peer, goal, DEFAULT_PAUSE_DAYS, turn.now)
    turn.audit("paused_goal", goal=goal.position, until=until.isoformat())
    return turn.reply(
        "pause_goal",
        goal=goal.text,
        days=DEFAULT_PAUSE_DAYS,
        until=until.astimezone(ZoneInfo(turn.peer.timezone)),
    )


def handle_rest(turn: Turn) -> str:
    if (question := ambiguous_number(turn)) is not None:
        return question
    if turn.reading.scope == "days":  # "SKIP 2" then "days": a pause of two days
        return handle_pause(turn)
    return answer_check_in(turn, "rest", "rest_day")


def handle_resume(turn: Turn) -> str:
    peer_changes.resume(turn.session, turn.peer, turn.now)
    turn.audit("resumed")
    return turn.reply("resume")


def handle_later(turn: Turn) -> str:
    if (question := ambiguous_number(turn)) is not None:
        return question
    hours = turn.reading.number if turn.reading.scope == "days" else None
    if turn.reading.number is not None and hours is None:
        chosen = [g for g in active_goals(turn) if g.position == turn.reading.number]
        goals = chosen or open_goals(turn) or active_goals(turn)
    else:
        goals = open_goals(turn) or active_goals(turn)
    if not goals:
        return turn.reply("ack")
    planned = peer_changes.snooze(
        turn.session, turn.runtime.settings, turn.peer, goals[0], turn.now,
        delay=timedelta(hours=min(hours, 12)) if hours else peer_changes.SNOOZE,
    )  # fmt: skip
    if planned is None:
        return turn.reply("later", already=True, at=None)
    turn.after_commit.append((planned.id, planned.due_at))
    turn.audit("later", goal=goals[0].position, at=planned.due_at.isoformat())
    return turn.reply(
        "later", already=False, at=planned.due_at.astimezone(ZoneInfo(turn.peer.timezone))
    )


def handle_time(turn: Turn) -> str:
    if not turn.reading.time:  # "earlier pls", "mornings are bad": ask for the time
        remember_question(turn, TIME_QUESTION)
        start, end = quiet_hours.window_text(turn.runtime.settings, turn.peer)
        return turn.reply("time_ask", start=start, end=end)
    try:
        new_time = peer_changes.move_check_ins(
            turn.session, turn.runtime.settings, turn.peer, turn.reading.time, turn.now
        )
    except ValueError:
        start, end = quiet_hours.window_text(turn.runtime.settings, turn.peer)
        return turn.reply("time_refused", start=start, end=end)
    turn.audit("time_changed", time=new_time)
    return turn.reply("time_changed", time=new_time)


def handle_goals(turn: Turn) -> str:
    return turn.reply("goals", goals=goal_lines(turn))


def goal_lines(turn: Turn) -> list[dict[str, Any]]:
    return [
        {
            "number": goal.position,
            "text": goal.text,
            "schedules": [
                schedule_shape(s.days, s.times)
                for s in goal.schedules
                if s.active and s.kind == "checkin"
            ],
        }
        for goal in active_goals(turn)
    ]


# --- everything else ---------------------------------------------------------------


def open_flag(turn: Turn, kind: str, detail: str) -> None:
    """One open flag of a kind per peer: a new message joins the open one."""
    flags.open_flag(turn.session, turn.peer.id, kind, detail, turn.now, turn.inbound.id)


def handle_other(turn: Turn) -> str | None:
    """Free text goes to the specialist; acknowledged at most once a local day."""
    open_flag(turn, "reply", "sent a message")
    midnight = turn.local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    acked = turn.session.scalar(
        select(func.count(OutboundMessage.id)).where(
            OutboundMessage.peer_id == turn.peer.id,
            OutboundMessage.template.like("%/ack/%"),
            OutboundMessage.created_at >= midnight,
        )
    )
    return None if acked else turn.reply("ack")


def handle_help(turn: Turn) -> str:
    return turn.reply("help")


HANDLERS = {
    "opt_in": lambda turn: turn.reply("already_subscribed"),
    "help": handle_help,
    "done": handle_done,
    "not_yet": lambda turn: answer_check_in(turn, "not_yet", "not_yet"),
    "rest": handle_rest,
    "mood": handle_mood,
    "pause": handle_pause,
    "resume": handle_resume,
    "later": handle_later,
    "time": handle_time,
    "goals": handle_goals,
    "fewer": handle_fewer,
    "keep": handle_keep,
    "opt_out_unclear": handle_unclear_opt_out,
}


def record_reply(turn: Turn, body: str) -> OutboundMessage:
    """The answer, as one planned outbound row in the thread: the worker sends it."""
    message = OutboundMessage(
        peer_id=turn.peer.id if turn.peer else None,
        to_phone=turn.sms.from_phone,
        kind=REPLY,
        status=PLANNED,
        body=body,
        template=turn.templates[0] if turn.templates else None,
        segments=segment_count(body)[1],
        due_at=turn.now,
        created_at=turn.now,
        updated_at=turn.now,
    )
    turn.session.add(message)
    return message


__all__ = ["OPTED_IN", "Handled", "handle_next", "wait_for_in_flight"]
