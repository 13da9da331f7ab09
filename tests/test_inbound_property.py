"""Property: whatever a peer texts, the webhook answers without a server error."""

from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from service.models import InboundMessage
from tests.inbound_worker import post_text
from tests.signing import inbound_form

KEYWORDS = [
    "STOP",
    "START",
    "DONE",
    "DONE 2",
    "PAUSE 3",
    "TIME 7pm",
    "TIME 99",
    "LATER",
    "1",
    "HELP",
    "GOALS",
    "\U0001f44d",
    "I want to die",
    "resume",
    "yes",
    "skip 9",
]
bodies = st.one_of(
    st.text(max_size=400),
    st.sampled_from(KEYWORDS),
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(KEYWORDS), st.text(max_size=20)),
)


def test_random_bodies_from_a_peer_never_produce_a_5xx(client, runtime, peer, clock):
    sids = count()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies, media=st.integers(min_value=0, max_value=3))
    def check(body, media):
        form = inbound_form(body, sid=f"SM{next(sids):032d}")
        form["NumMedia"] = str(media)
        response = post_text(client, form)
        assert response.status_code == 200, body

    check()
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count(InboundMessage.id))) == next(sids)
