"""Sending through Twilio with the official client.

The client is built lazily, on the first send. ``TWILIO_API_BASE_URL`` is
honoured through a custom HTTP client that rewrites Twilio's host, so tests run
the real client against a local Twilio-compatible server.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from service.gateways import GatewayError, ProviderStatus
from service.settings import TWILIO_DEFAULT_API_BASE_URL, Settings

log = logging.getLogger(__name__)

# The twilio client logs request URLs and headers at INFO; keep them out of our logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

TWILIO_HOSTS = ("https://api.twilio.com", "https://messaging.twilio.com")
# Codes worth retrying; what a permanent code does to the peer is service/delivery.py's.
TRANSIENT_TWILIO_CODES = {"20429", "20500", "20503", "30001", "30008"}
HTTP_TIMEOUT_SECONDS = 15.0
POOL_SIZE = 64


class BaseUrlHttpClient(TwilioHttpClient):
    """The stock HTTP client, pointed at another base URL, with a pool sized for many sends."""

    def __init__(self, base_url: str, timeout: float = HTTP_TIMEOUT_SECONDS):
        super().__init__(pool_connections=True, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        if self.base_url != TWILIO_DEFAULT_API_BASE_URL:
            for host in TWILIO_HOSTS:
                if url.startswith(host):
                    url = self.base_url + url[len(host) :]
                    break
        return super().request(method, url, *args, **kwargs)


def classify(error: Exception) -> GatewayError:
    """Turn a client or network error into a GatewayError that knows if retrying helps."""
    if isinstance(error, TwilioRestException):
        code = str(error.code) if error.code is not None else None
        status = int(error.status or 0)
        transient = status == 429 or status >= 500 or code in TRANSIENT_TWILIO_CODES
        return GatewayError(
            f"Twilio answered {status} (code {code or 'none'})",
            permanent=not transient,
            code=code or str(status),
        )
    if isinstance(error, requests.RequestException | OSError):
        return GatewayError(f"network error: {type(error).__name__}", permanent=False)
    return GatewayError(f"unexpected error: {type(error).__name__}", permanent=False)


class TwilioGateway:
    name = "twilio"
    confirms_absence = False  # the message list can lag behind what Twilio accepted

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = Client(
                    self.settings.twilio_account_sid,
                    self.settings.twilio_auth_token,
                    http_client=BaseUrlHttpClient(self.settings.twilio_api_base_url),
                )
            return self._client

    def send_sms(self, to: str, body: str, status_callback: str | None) -> str:
        params: dict[str, Any] = {
            "to": to,
            "body": body,
            "validity_period": self.settings.message_validity_seconds,
        }
        if status_callback:
            params["status_callback"] = status_callback
        if self.settings.twilio_messaging_service_sid:
            params["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        else:
            params["from_"] = self.settings.twilio_from_number
        try:
            message = self.client.messages.create(**params)
        except Exception as error:
            raise classify(error) from error
        return str(message.sid)

    def lookup(self, provider_id: str) -> ProviderStatus | None:
        try:
            message = self.client.messages(provider_id).fetch()
        except TwilioRestException as error:
            if error.status == 404:
                return None
            raise classify(error) from error
        except Exception as error:
            raise classify(error) from error
        code = str(message.error_code) if message.error_code else None
        return ProviderStatus(str(message.sid), str(message.status), code)

    def find_sent(self, to: str, body: str, since: datetime) -> ProviderStatus | None:
        """Twilio records a message the moment it accepts it: list what went to ``to``."""
        try:
            recent = self.client.messages.list(
                to=to, date_sent_after=since - timedelta(minutes=5), limit=50
            )
        except Exception as error:
            raise classify(error) from error
        for message in recent:
            if message.body == body:
                return ProviderStatus(str(message.sid), str(message.status))
        return None
