"""The kinds of flag, their labels, and which are urgent: a leaf settings can read.

Crisis and possible crisis are always urgent; a missed follow-up becomes urgent
(service/alerts.py). A program may mark any other kind urgent with
``URGENT_FLAG_KINDS``: the next escalation tick marks its open flags urgent and
opens their alerts, the same chain a crisis gets.
"""

from __future__ import annotations

ALWAYS_URGENT = ("crisis", "possible_crisis")
# Urgent first, then the order a specialist would want to act on.
KIND_ORDER = [
    *ALWAYS_URGENT,
    "follow_up",
    "low_mood",
    "silence",
    "delivery_failure",
    "no_crisis_line",
    "low_progress",
    "possible_opt_out",
    "fewer",
    "reply",
    "opted_out",
]
KIND_LABELS = {
    "crisis": "Crisis language",
    "possible_crisis": "Possible crisis",
    "possible_opt_out": "May want fewer texts or none",
    "fewer": "Asked for fewer texts",
    "follow_up": "Follow-up due",
    "low_mood": "Low mood",
    "silence": "Silence",
    "delivery_failure": "Texts failing",
    "no_crisis_line": "No crisis line on file",
    "low_progress": "Little progress",
    "reply": "New message",
    "opted_out": "Opted out",
}
# What URGENT_FLAG_KINDS may name: every kind not urgent already. A follow-up is
# left out because it becomes urgent by itself when it is missed.
MAY_BE_MARKED_URGENT = tuple(k for k in KIND_ORDER if k not in (*ALWAYS_URGENT, "follow_up"))
