"""The one seam every outbound SMS goes through.

A gateway sends a body to a number and returns the provider's message id, or
raises :class:`GatewayError` saying whether trying again could help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings


class GatewayError(Exception):
    """A send failed. ``permanent`` errors are never retried."""

    def __init__(self, message: str, *, permanent: bool, code: str | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class ProviderStatus:
    """What the provider knows of a message we may or may not have sent."""

    provider_id: str
    status: str  # queued | sent | delivered | undelivered | failed ...
    error_code: str | None = None


class SmsGateway(Protocol):
    name: str
    # True when "find_sent found nothing" proves the message never left (safe to re-send).
    confirms_absence: bool

    def send_sms(self, to: str, body: str, status_callback: str | None) -> str:
        """Send one SMS and return the provider's id for it."""
        ...

    def lookup(self, provider_id: str) -> ProviderStatus | None:
        """The provider's view of a message, or None when it does not know it."""
        ...

    def find_sent(self, to: str, body: str, since: datetime) -> ProviderStatus | None:
        """A message with this body the provider accepted for ``to`` since then, if any.

        Used after a crash between handing a message over and recording its id.
        """
        ...


def build_gateway(settings: Settings, session_factory: sessionmaker[Session]) -> SmsGateway:
    """The gateway the settings name; built in the app factory or worker start-up."""
    # Imported here: both import GatewayError from this module (a cycle at the top), and
    # only a process that sends through Twilio should pay for importing its client.
    if settings.sms_gateway == "twilio":
        from service.gateways.twilio import TwilioGateway

        return TwilioGateway(settings)
    from service.gateways.simulator import SimulatorGateway

    return SimulatorGateway(session_factory)
