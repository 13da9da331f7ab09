"""The data model: specialists, peers, goals, schedules, messages, consent, flags.

All timestamps are stored as naive UTC and come back as aware UTC datetimes
(:class:`UTCDateTime`), so SQLite and PostgreSQL behave the same and no code
compares a naive time with an aware one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC was expected")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Specialist(Base):
    __tablename__ = "specialists"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Times on the dashboard are shown in the peer's zone and in this one.
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    role: Mapped[str] = mapped_column(String(20), default="specialist")  # specialist | admin
    # Staff contact for alerts: a mobile number (E.164) for urgent texts and ACK replies.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # Their own quiet hours for non-urgent notices (local times); urgent alerts ignore them.
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    # The daily digest of non-urgent flags: at this local time (None: off), by email or sms.
    digest_time: Mapped[time | None] = mapped_column(Time)
    digest_channel: Mapped[str] = mapped_column(String(8), default="email")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session of this specialist; bumping it ends them all (logout,
    # password change or reset, role change, switching the account off).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    peers: Mapped[list[Peer]] = relationship(
        back_populates="specialist", foreign_keys="Peer.specialist_id"
    )

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


# Peer.consent values
OPTED_IN = "opted_in"
OPTED_OUT = "opted_out"
PENDING = "pending"


class Peer(Base):
    __tablename__ = "peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    display_name: Mapped[str] = mapped_column(String(60))
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name
    language: Mapped[str] = mapped_column(String(2), default="en")  # en | es
    consent: Mapped[str] = mapped_column(String(12), default=PENDING)
    consent_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_method: Mapped[str | None] = mapped_column(String(40))  # in person, phone, ...
    consent_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Automated texts are held until this time: a day after crisis language, or until
    # an unclear opt-out ("too many texts") is resolved. hold_reason says which.
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_reason: Mapped[str | None] = mapped_column(String(30))
    # The last question we asked ("which_goal:done", "number:pause:2", "opt_out_unclear")
    # and when: a reply soon after is read as its answer (service/understanding/context.py).
    asked: Mapped[str | None] = mapped_column(String(40))
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The peer's own narrower window for automated messages (local times).
    window_start: Mapped[time | None] = mapped_column(Time)
    window_end: Mapped[time | None] = mapped_column(Time)
    strengths: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[str | None] = mapped_column(Text)
    # Encouragement cadence chosen by the peer, as a schedule rule ("2x-week", "off").
    encouragement: Mapped[str] = mapped_column(String(40), default="2x-week")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set while the peer is discharged from the program (service/discharge.py): automated
    # texts stop, history stays. Each discharge is also a Discharge row, for the reports.
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discharge_reason: Mapped[str | None] = mapped_column(String(40))

    specialist: Mapped[Specialist] = relationship(
        back_populates="peers", foreign_keys=[specialist_id]
    )
    goals: Mapped[list[Goal]] = relationship(
        back_populates="peer", order_by="Goal.position", cascade="all, delete-orphan"
    )

    def status(self, now: datetime | None = None) -> str:
        """One of ``active``, ``paused``, ``opted_out``, ``discharged`` (``pending`` before
        consent)."""
        now = now or utcnow()
        if self.discharged_at is not None:
            return "discharged"
        if self.consent == OPTED_OUT:
            return "opted_out"
        if self.consent == PENDING:
            return "pending"
        if self.paused_until is not None and self.paused_until > now:
            return "paused"
        return "active"


class Goal(Base):
    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"), index=True)
    text: Mapped[str] = mapped_column(String(160))  # the peer's own words
    position: Mapped[int] = mapped_column(Integer, default=1)  # "DONE 2"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    peer: Mapped[Peer] = relationship(back_populates="goals")
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="goal", cascade="all, delete-orphan"
    )


class Schedule(Base):
    """When a goal's check-ins (or encouragement) go out, in the peer's local time."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="checkin")  # checkin | encouragement
    # daily | weekdays | mon,wed,fri | 3x-week
    days: Mapped[str] = mapped_column(String(40))
    # Local times, comma separated 24-hour HH:MM.
    times: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="schedules")

    @property
    def local_times(self) -> list[time]:
        return [time.fromisoformat(t.strip()) for t in self.times.split(",") if t.strip()]


# OutboundMessage.status values, in the order a message moves through them.
PLANNED, SENDING, SENT, DELIVERED = "planned", "sending", "sent", "delivered"
UNDELIVERED, FAILED, SKIPPED, CANCELLED = "undelivered", "failed", "skipped", "cancelled"


class OutboundMessage(Base):
    """Every SMS the system sends or plans to send: nudges, replies, welcome, direct.

    A planned nudge has ``schedule_id`` and ``occurrence`` (the UTC instant of
    the local slot it stands for); the pair is unique so two planners cannot
    plan the same occurrence twice.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (
        UniqueConstraint("schedule_id", "occurrence", name="uq_outbound_schedule_occurrence"),
        Index("ix_outbound_status_due", "status", "due_at"),
        Index("ix_outbound_peer_created", "peer_id", "created_at"),
        # The loop guard looks up recent texts to a number on every inbound message.
        Index("ix_outbound_phone_created", "to_phone", "created_at"),
        # The program report counts a range's texts by the day they were due.
        Index("ix_outbound_due", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id"))
    to_phone: Mapped[str] = mapped_column(String(20))
    # checkin | encouragement | reply | welcome | direct | milestone | summary ...
    kind: Mapped[str] = mapped_column(String(30))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"))
    occurrence: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=PLANNED)
    skip_reason: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(80))
    segments: Mapped[int | None] = mapped_column(Integer)
    encoding: Mapped[str | None] = mapped_column(String(8))
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set just before the provider is called: a row in `sending` without it never left.
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    peer: Mapped[Peer | None] = relationship()


class InboundMessage(Base):
    """A text as it arrived: stored by the webhook, then handled by a worker.

    ``handled_at`` is NULL until a worker has applied what the text means and
    written the reply, in one transaction; the partial index holds only those
    rows, so finding a peer's next text, or texts whose job was lost, is cheap.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_peer_received", "peer_id", "received_at"),
        Index(
            "ix_inbound_unhandled", "from_phone", "id",
            sqlite_where=sql_text("handled_at IS NULL"),
            postgresql_where=sql_text("handled_at IS NULL"),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)  # MessageSid
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id"))
    from_phone: Mapped[str] = mapped_column(String(20))
    to_phone: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    media: Mapped[list[Any] | None] = mapped_column(JSON)
    # How the text was read (service/understanding): opt_out, done, mood, crisis, other...
    intent: Mapped[str | None] = mapped_column(String(30))
    confidence: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(2))
    reply_body: Mapped[str | None] = mapped_column(Text)  # what we answered, if anything
    # Twilio's Advanced Opt-Out verdict (STOP, START, HELP), when it matched a keyword.
    opt_out_type: Mapped[str | None] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    peer: Mapped[Peer | None] = relationship()


class CheckIn(Base):
    """A peer's answer for one goal on one local day; answering again updates it."""

    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("goal_id", "local_date", name="uq_check_in_goal_day"),
        # The program report pairs each check-in text with the answer that followed it.
        Index("ix_check_in_goal_created", "goal_id", "created_at"),
        # ... and a range's answers by the peer's day, with whose they are (weekly answerers).
        Index("ix_check_in_day_peer", "local_date", "peer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"))
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"), index=True)
    local_date: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(12))  # done | not_yet | rest
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Mood(Base):
    """A 1-5 mood the peer texted, one per local day."""

    __tablename__ = "moods"
    __table_args__ = (
        UniqueConstraint("peer_id", "local_date", name="uq_mood_peer_day"),
        Index("ix_mood_day", "local_date", "peer_id", "score"),  # the report's days of moods
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"))
    local_date: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentEvent(Base):
    """The consent ledger: every opt-in, opt-out and re-subscribe, with its source.

    Recorded by phone as well as peer, so an opt-out from an unknown number
    still binds a peer enrolled later with that number.
    """

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # opt_in | opt_out
    source: Mapped[str] = mapped_column(String(20))  # sms | specialist | provider | enrolment
    detail: Mapped[str | None] = mapped_column(String(255))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Discharge(Base):
    """One time a peer left the program, and when (if) they were enrolled again.

    Peer.discharged_at says whether the peer is discharged now; these rows keep every
    spell, so a report over a past range knows who was enrolled then.
    """

    __tablename__ = "discharges"

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"), index=True)
    discharged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(40))
    discharged_by: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))
    re_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    re_enrolled_by: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))


class Flag(Base):
    """A warning sign for the specialist: crisis, silence, little progress..."""

    __tablename__ = "flags"
    __table_args__ = (Index("ix_flags_open", "peer_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"))
    kind: Mapped[str] = mapped_column(String(30))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str | None] = mapped_column(String(255))
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # A follow-up contact is due by then (after a crisis); missed, it becomes an urgent alert.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Who changed what: a specialist's action or a peer's own change by text."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_peer_created", "peer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(40))  # "peer", "specialist:7", "system"
    peer_id: Mapped[int | None] = mapped_column(ForeignKey("peers.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MessageRotation(Base):
    """The last template variant a peer got for each kind, so wording rotates."""

    __tablename__ = "message_rotations"

    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    last_variant: Mapped[str] = mapped_column(String(80))


class ApiToken(Base):
    """A specialist's token for the JSON API. Only its SHA-256 is stored; the secret is
    shown once, when it is created."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    specialist: Mapped[Specialist] = relationship()


# Alert.status values
ALERT_OPEN, ALERT_ACKNOWLEDGED = "open", "acknowledged"
ALERT_RESOLVED, ALERT_EXHAUSTED = "resolved", "exhausted"


class Alert(Base):
    """An urgent flag that a person must answer: escalates until someone acknowledges.

    ``position`` counts the steps of the chain already fired (0: none yet);
    ``next_step_at`` is when the next one is due. Advancing is a conditional
    UPDATE on ``position``, so two ticks never fire the same step.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_status_next", "status", "next_step_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), unique=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("peers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ALERT_OPEN)
    ack_code: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer, default=0)
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_via: Mapped[str | None] = mapped_column(String(16))  # sms | dashboard | email
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    peer: Mapped[Peer] = relationship()
    flag: Mapped[Flag] = relationship()
    taker: Mapped[Specialist | None] = relationship(foreign_keys=[acknowledged_by])


class AlertNotification(Base):
    """One attempt to reach one person about an alert, on one channel.

    Unique per (alert, round, step, recipient, channel): a step replayed by a
    second worker or a lost Redis inserts nothing new. A step with nobody
    reachable leaves one ``skipped`` row with no recipient. Round 0, step 0 is
    the reminder to the person who acknowledged it.
    """

    __tablename__ = "alert_notifications"
    __table_args__ = (
        UniqueConstraint(
            "alert_id", "round", "step", "recipient_id", "channel", name="uq_alert_notification"
        ),
        Index("ix_alert_notifications_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)  # 1 specialist, 2 on call, 3 admins, 0 reminder
    channel: Mapped[str] = mapped_column(String(8))  # sms | email | none
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))
    address: Mapped[str | None] = mapped_column(String(254))
    # pending | sending | sent | delivered | undelivered | failed | skipped | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200), index=True)
    error_code: Mapped[str | None] = mapped_column(String(20))
    link_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    alert: Mapped[Alert] = relationship()
    recipient: Mapped[Specialist | None] = relationship()


class OnCallShift(Base):
    """Who is on call, from when to when (UTC); the second step of every alert chain."""

    __tablename__ = "on_call_shifts"
    __table_args__ = (Index("ix_on_call_window", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("specialists.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    specialist: Mapped[Specialist] = relationship(foreign_keys=[specialist_id])


class StaffDigest(Base):
    """One specialist's daily digest of non-urgent flags: unique per local day, so two
    planners (or a restart) never send a second one."""

    __tablename__ = "staff_digests"
    __table_args__ = (UniqueConstraint("specialist_id", "local_date", name="uq_staff_digest_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id"))
    local_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="sent")  # sent | failed
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportTally(Base):
    """A day's count for the program report, kept once the day can no longer change
    (:mod:`service.report_rollup`): ``figure`` names what is counted, ``key`` which
    part (a goal number, minutes to answer, a delivery outcome). Specialist 0 with the
    figure "rolled" marks a day as rolled up."""

    __tablename__ = "report_tallies"

    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    specialist_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    figure: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class HabitStrength(Base):
    """Each goal's habit strength at the end of a final day, kept by the report roll-up
    (:mod:`service.report_rollup`) for the last day rolled up and for each month's last
    day, so the program report adds only the days after it. Goal 0 marks the day as
    kept; a goal with nothing done in the 180 days before has no row (strength 0)."""

    __tablename__ = "habit_strengths"

    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    goal_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strength: Mapped[float] = mapped_column(Float)
