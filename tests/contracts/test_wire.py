from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from at_voice_kit.contracts.wire import (
    CallStartTimeSeparator,
    InvalidCallStartTime,
    format_call_start_time,
    none_if_none_string,
    none_string,
    parse_call_start_time,
)


@pytest.mark.parametrize(
    "raw", ["2025-09-29 10:30:00", "2025-09-29+10:30:00", "2025-09-29T10:30:00"]
)
def test_call_start_time_accepts_both_separators(raw: str) -> None:
    assert parse_call_start_time(raw) == datetime(2025, 9, 29, 10, 30, 0)


@pytest.mark.parametrize("raw", [None, "None", ""])
def test_call_start_time_none_means_never_started(raw: str | None) -> None:
    assert parse_call_start_time(raw) is None


@pytest.mark.parametrize("raw", ["yesterday", "2025-13-01 10:00:00", "2025-09-29 25:00:00"])
def test_call_start_time_rejects_garbage(raw: str) -> None:
    with pytest.raises(InvalidCallStartTime):
        parse_call_start_time(raw)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.sampled_from(CallStartTimeSeparator),
)
def test_call_start_time_round_trips(moment: datetime, separator: CallStartTimeSeparator) -> None:
    assert parse_call_start_time(format_call_start_time(moment, separator)) == moment


def test_none_string_both_ways() -> None:
    assert none_string(None) == "None"
    assert none_string(3) == "3"
    assert none_if_none_string("None") is None
    assert none_if_none_string("ATVId_x") == "ATVId_x"
