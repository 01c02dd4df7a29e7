"""ActionXML, AT's voice instruction language: one grammar for the service, simulator and runner.

The typed values live in :mod:`contracts.actionxml.model`.
"""

from __future__ import annotations

from contracts.actionxml.model import (
    Action,
    Conference,
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    Play,
    Prompt,
    Record,
    Redirect,
    Reject,
    Response,
    Say,
    Voice,
)

__all__ = [
    "Action",
    "Conference",
    "Dequeue",
    "Dial",
    "Enqueue",
    "GetDigits",
    "Play",
    "Prompt",
    "Record",
    "Redirect",
    "Reject",
    "Response",
    "Say",
    "Voice",
]
