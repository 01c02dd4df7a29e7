"""schemathesis hooks for ``contracts/at_voice.yaml``: how to generate ``at-phone-number``, and
how to send a recording (``audio/wav``).

The contract's admin paths take phone numbers that libphonenumber considers valid, which no
pattern can express. Load this module to give schemathesis a strategy for them:
``SCHEMATHESIS_HOOKS=at_voice_kit.simulator.testing.schemathesis_hooks st run http://127.0.0.1:5001/_simulator/openapi.yaml``,
or import it in a test module. Imports schemathesis and hypothesis (the ``test`` extra).
"""

from __future__ import annotations

import phonenumbers
import schemathesis
from hypothesis import strategies as st

PHONE_NUMBER_FORMAT = "at-phone-number"
REGIONS = ("KE", "UG", "TZ", "RW", "NG", "ZA", "GB", "US")


def _valid_numbers_near_example(region: str, tail: int) -> str:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None, f"libphonenumber has no example mobile number for {region}"
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    candidate = f"{e164[:-3]}{tail:03d}"
    if phonenumbers.is_valid_number(phonenumbers.parse(candidate, None)):
        return candidate
    return e164


valid_phone_numbers = st.builds(
    _valid_numbers_near_example, st.sampled_from(REGIONS), st.integers(0, 999)
)
"""Valid E.164 numbers: each region's example mobile number with its last 3 digits varied."""

schemathesis.openapi.format(PHONE_NUMBER_FORMAT, valid_phone_numbers)

# A dev phone's recording (``POST /_simulator/phones/{number}/recording``) is a WAV file sent
# as it is: generated bodies go out as raw bytes, like any binary upload.
schemathesis.serializer.alias("audio/wav", "application/octet-stream")
