"""The simulator's admin API under ``/_simulator/``: set up accounts, numbers and callees,
reset, and read the journal. JSON everywhere; errors as RFC 7807 problem documents."""

from __future__ import annotations
