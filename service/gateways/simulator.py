"""The embedded default gateway: nothing leaves the machine.

Messages are already stored as outbound rows; the simulator page shows them as
a phone would. Sending only hands out a provider id, so the rest of the system
(status, reconciliation) works exactly as it does with Twilio.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.gateways import ProviderStatus
from service.models import OutboundMessage

SIMULATOR_PREFIX = "SM"


class SimulatorGateway:
    name = "simulator"
    confirms_absence = True  # its store is the phone: not there means not delivered

    def __init__(self, session_factory: sessionmaker[Session]):
        self.session_factory = session_factory

    def send_sms(self, to: str, body: str, status_callback: str | None) -> str:
        return f"{SIMULATOR_PREFIX}{uuid.uuid4().hex}"

    def lookup(self, provider_id: str) -> ProviderStatus | None:
        with self.session_factory() as session:
            status = session.scalar(
                select(OutboundMessage.status).where(OutboundMessage.provider_id == provider_id)
            )
        return None if status is None else ProviderStatus(provider_id, "delivered")

    def find_sent(self, to: str, body: str, since: datetime) -> ProviderStatus | None:
        """The simulator's phone shows only rows recorded as sent: a crash sent nothing."""
        return None
