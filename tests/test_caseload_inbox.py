"""The caseload as an inbox: the peer's words behind each flag, filters, search, counts,
and the peer page's flags with their history. Through the Flask test client, with real
texts handled by a real worker."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.discharge import discharge
from service.models import Flag, InboundMessage, Peer
from tests.conftest import enrol, make_specialist, sign_in
from tests.inbound_worker import post_text
from tests.signing import inbound_form

QUOTE = re.compile(r'<a class="quote" href="([^"]+)">&ldquo;(.*?)&rdquo;</a>', re.S)
PEER_LINK = re.compile(r'<td><a href="/peers/\d+">([^<]+)</a>')


def text_from(client, phone: str, body: str, number: int) -> None:
    """A text from ``phone``, stored by the webhook and handled by a worker."""
    post_text(client, inbound_form(body, sid=f"SM{number:032x}", from_=phone))


def caseload(client, **query: str) -> str:
    response = client.get("/", query_string=query)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def peers_listed(page: str) -> list[str]:
    """The peers in the caseload table, top to bottom."""
    return PEER_LINK.findall(page.split('<table class="list caseload">', 1)[1])


def quotes(page: str) -> list[tuple[str, str]]:
    """Each quoted text on a page: (link, the words as a reader sees them)."""
    return [(href, html.unescape(words)) for href, words in QUOTE.findall(page)]


def the_text(runtime, body_start: str) -> InboundMessage:
    with runtime.session_factory() as session:
        return session.scalar(
            select(InboundMessage).where(InboundMessage.body.startswith(body_start))
        )


def add_flag(runtime, peer_id: int, kind: str, **fields) -> int:
    with runtime.session_factory() as session, session.begin():
        flag = Flag(peer_id=peer_id, kind=kind, created_at=runtime.now(), **fields)
        session.add(flag)
        session.flush()
        return flag.id


def csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


@pytest.fixture
def admin(runtime) -> int:
    return make_specialist(runtime, "ada@example.org", "Ada Admin", role="admin")


# --- why a peer needs attention, in their words ---------------------------------------


def test_the_text_behind_a_flag_is_quoted_escaped_trimmed_and_links_to_the_message(
    client, runtime, peer
):
    words = "<script>alert('x')</script> I keep thinking about the fight with my sister " * 4
    text_from(client, "+12125550134", words.strip(), 1)
    sign_in(client)
    page = caseload(client)

    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    href, quoted = quotes(page)[0]  # the flag's quote comes before the last-text preview
    assert quoted.endswith("\u2026") and len(quoted) <= 120
    assert words.startswith(quoted[:-1].rstrip())
    message = the_text(runtime, "<script>")
    assert href == f"/peers/{peer}#message-{message.id}"
    peer_page = client.get(f"/peers/{peer}").get_data(as_text=True)
    assert f'id="message-{message.id}"' in peer_page


def test_the_age_of_a_text_is_in_words_with_the_full_time_in_the_specialists_zone(
    client, runtime, peer, clock
):
    text_from(client, "+12125550134", "can we talk tomorrow?", 1)  # 16:00 UTC, 12:00 in New York
    sign_in(client)
    clock.advance(minutes=12)
    assert ">12 min ago</time>" in caseload(client)
    clock.advance(hours=3)
    page = caseload(client)
    assert ">3 h ago</time>" in page
    assert 'datetime="2026-06-15T16:00:00+00:00" title="Mon Jun 15 2026, 12:00 EDT"' in page
    clock.set(datetime(2026, 6, 16, 15, 0, tzinfo=UTC))
    assert ">yesterday</time>" in caseload(client)


def test_the_last_text_is_previewed_in_place_of_a_bare_timestamp(client, runtime, peer, clock):
    text_from(client, "+12125550134", "DONE", 1)
    clock.advance(minutes=5)
    text_from(client, "+12125550134", "see you at group tonight", 2)
    sign_in(client)
    page = caseload(client)
    last_cell = page.split('data-label="Last text from them">', 1)[1].split("</td>", 1)[0]
    assert "see you at group tonight" in last_cell and "DONE" not in last_cell
    assert ">just now</time>" in last_cell and "UTC" not in last_cell


def test_flags_no_text_raised_get_a_plain_reason(client, runtime, peer, clock):
    clock.advance(days=6)
    add_flag(runtime, peer, "silence", detail="no reply in 5 days")
    due = datetime(2026, 6, 23, 18, 0, tzinfo=UTC)  # a Tuesday, 14:00 in New York
    add_flag(runtime, peer, "follow_up", detail="a follow-up contact is due", due_at=due)
    sign_in(client)
    page = caseload(client)
    assert "No reply for 6 days" in page
    assert "Follow-up call due by Tue 14:00" in page
    assert quotes(page) == []  # nothing was texted, so nothing is quoted


def test_a_stop_text_is_quoted_on_the_opted_out_flag(client, runtime, peer):
    text_from(client, "+12125550134", "STOP", 1)
    sign_in(client)
    href, quoted = quotes(caseload(client, show="opted_out"))[0]
    assert quoted == "STOP" and href.endswith(f"#message-{the_text(runtime, 'STOP').id}")


# --- filters and search ---------------------------------------------------------------


@pytest.fixture
def caseload_of_five(client, runtime, specialist, clock) -> dict[str, int]:
    """Jordan's peers: Aaron texted (a new message), Bea paused, Cleo texted STOP,
    Dana discharged, Eli quiet."""
    ids = {
        name: enrol(runtime, specialist, phone=f"+1212555{number:04d}", name=name)
        for number, name in [(1001, "Aaron"), (1002, "Bea"), (1003, "Cleo"), (1004, "Dana")]
    }
    ids["Eli"] = enrol(runtime, specialist, phone="+12125551005", name="Eli")
    text_from(client, "+12125551001", "rough day, can you call me", 1)
    text_from(client, "+12125551003", "STOP", 2)
    with runtime.session_factory() as session, session.begin():
        session.get(Peer, ids["Bea"]).paused_until = clock.current + timedelta(days=7)
        discharge(session, session.get(Peer, ids["Dana"]), "completed", specialist, clock())
    return ids


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("attention", ["Aaron", "Cleo"]),
        ("paused", ["Bea"]),
        ("opted_out", ["Cleo"]),
        ("discharged", ["Dana"]),
        ("mine", ["Aaron", "Cleo", "Bea", "Dana", "Eli"]),
        ("all", ["Aaron", "Cleo", "Bea", "Dana", "Eli"]),
    ],
)
def test_each_filter_selects_its_peers(client, caseload_of_five, show, expected):
    sign_in(client)
    assert peers_listed(caseload(client, show=show)) == expected


def test_the_filters_are_links_with_their_counts(client, caseload_of_five):
    sign_in(client)
    page = caseload(client, show="paused")
    assert '<a href="/?show=attention">Needs attention (2)</a>' in page
    assert '<a href="/?show=paused" aria-current="page">Paused (1)</a>' in page
    assert '<a href="/">All (5)</a>' in page


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("1003", ["Cleo"]),
        ("(212) 555-1003", ["Cleo"]),
        ("+1 212 555 1005", ["Eli"]),
        ("le", ["Cleo"]),
        ("EA", ["Bea"]),
        ("a", ["Aaron", "Bea", "Dana"]),
        ("%", []),
        ("9999", []),
    ],
)
def test_search_by_the_last_digits_or_part_of_a_name(client, caseload_of_five, search, expected):
    sign_in(client)
    assert peers_listed(caseload(client, q=search)) == expected


def test_search_and_filter_together(client, caseload_of_five):
    sign_in(client)
    assert peers_listed(caseload(client, show="attention", q="aa")) == ["Aaron"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"q": "x" * 10_000}, "Search for at most 60 characters"),
        ({"show": "everyone<b>"}, "There is no filter called &#39;everyone&lt;b&gt;&#39;"),
    ],
)
def test_bad_search_or_filter_is_a_clear_message_not_a_500(
    client, caseload_of_five, query, message
):
    sign_in(client)
    response = client.get("/", query_string=query)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    assert "<b>" not in page.split("<main", 1)[1]
    assert peers_listed(page)  # the caseload is still there, without the bad part


def test_a_nul_byte_in_the_search_is_refused_with_the_reason(client, caseload_of_five):
    sign_in(client)
    response = client.get("/", query_string={"q": "Aa\x00ron"})
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)


# --- whose peers ------------------------------------------------------------------------


@pytest.fixture
def two_caseloads(client, runtime, specialist, outsider, admin) -> dict[str, int]:
    """Jordan's Sam (0134), Casey's Samira (0199), Ada's own Finn (0188); all text."""
    ids = {
        "Sam": enrol(runtime, specialist),
        "Samira": enrol(runtime, outsider, phone="+12125550199", name="Samira"),
        "Finn": enrol(runtime, admin, phone="+12125550188", name="Finn"),
    }
    for number, phone in enumerate(("+12125550134", "+12125550199", "+12125550188")):
        text_from(client, phone, "can someone call me back", number)
    return ids


def test_an_admin_sees_whose_peer_each_is(client, two_caseloads):
    sign_in(client, "ada@example.org")
    page = caseload(client)
    assert '<th scope="col">Specialist</th>' in page
    row_of_samira = page.split(">Samira</a>", 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Specialist">Casey Morgan</td>' in row_of_samira
    assert peers_listed(caseload(client, show="mine")) == ["Finn"]


def test_a_specialist_never_finds_another_caseloads_peer(client, two_caseloads):
    sign_in(client)
    assert '<th scope="col">Specialist</th>' not in caseload(client)
    assert peers_listed(caseload(client, q="Sam")) == ["Sam"]
    assert peers_listed(caseload(client, q="0199")) == []
    for show in ("all", "attention", "mine"):
        assert peers_listed(caseload(client, show=show)) == ["Sam"]
    assert "All (1)" in caseload(client)


def test_the_navigation_counts_the_peers_needing_attention(client, runtime, two_caseloads):
    sign_in(client)
    assert "Caseload (1" in client.get("/account").get_data(as_text=True)
    sign_in(client, "ada@example.org")
    assert "Caseload (3" in client.get("/account").get_data(as_text=True)
    sign_in(client, "casey@example.org")
    with runtime.session_factory() as session, session.begin():
        for flag in session.scalars(select(Flag).where(Flag.peer_id == two_caseloads["Samira"])):
            flag.resolved_at = runtime.now()
    nav = client.get("/account").get_data(as_text=True).split("</nav>", 1)[0]
    assert ">Caseload</a>" in nav


# --- the peer page ----------------------------------------------------------------------


def test_the_peer_page_opens_with_the_flag_the_words_and_im_on_it(client, runtime, peer):
    text_from(client, "+12125550134", "i want to end my life", 1)
    sign_in(client)
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    flags = page.split('<h2 id="flags-h">', 1)[1].split("</section>", 1)[0]
    message = the_text(runtime, "i want to end")
    assert quotes(flags) == [(f"#message-{message.id}", "i want to end my life")]
    assert "I'm on it" in flags and "Resolve" in flags
    assert page.index('id="flags-h"') < page.index("<h2>Conversation</h2>")
    assert page.index("<h2>Conversation</h2>") < page.index("Goals and progress")


def test_the_resolve_note_is_in_the_history_with_who_resolved_which_flag(
    client, runtime, peer, admin
):
    text_from(client, "+12125550134", "i want to end my life", 1)
    flag_id = add_flag(runtime, peer, "silence")  # a second flag, left open
    sign_in(client)
    with runtime.session_factory() as session:
        crisis = session.scalar(select(Flag.id).where(Flag.kind == "crisis"))
    client.post(
        f"/flags/{crisis}/resolve",
        data={"csrf_token": csrf(client, f"/peers/{peer}"), "note": "Called her <now> safe"},
    )
    sign_in(client, "ada@example.org")  # someone else reads the history
    page = client.get(f"/peers/{peer}").get_data(as_text=True)
    history = html.unescape(page.split(">History</h2>", 1)[1])
    assert "Crisis language flag (raised Jun 15 12:00) resolved by Jordan Rivera" in history
    assert "\u201cCalled her <now> safe\u201d" in history
    assert "&lt;now&gt;" in page and "<now>" not in page
    assert f'id="note-{flag_id}"' in page  # the other flag is still open
