"""Where a simulator run's configuration comes from: a YAML file (``--config FILE``,
``ATSIM_CONFIG``), ``ATSIM_*`` variables and command-line flags, each read strictly into a
:class:`~at_voice_kit.simulator.backend.platform_config.SimulatorConfig`; a broken rule is a
:class:`~at_voice_kit.simulator.backend.platform_config.ConfigError` naming the file, key or
variable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import yaml

from at_voice_kit.contracts.json_schema import schema_pattern
from at_voice_kit.simulator.backend.accounts import Account
from at_voice_kit.simulator.backend.callees import CalleeScript
from at_voice_kit.simulator.backend.changes import OMITTED, Omitted
from at_voice_kit.simulator.backend.destinations import (
    Tariff,
)
from at_voice_kit.simulator.backend.exceptions import FieldError, InvalidSettings
from at_voice_kit.simulator.backend.numbers import AtNumber
from at_voice_kit.simulator.backend.platform_config import (
    MAX_SEED,
    ConfigError,
    SimulatorConfig,
    Speed,
)
from at_voice_kit.simulator.configuration.fields import (
    FieldReader,
    country_code_problem,
    decimal_from,
    url_problem,
)
from at_voice_kit.simulator.configuration.readers import (
    ACCOUNT_FIELDS,
    CALLEE_FIELDS,
    EVENT_FAULT_FIELDS,
    NUMBER_FIELDS,
    read_account_fields,
    read_callee_fields,
    read_event_fault_fields,
    read_number_fields,
    webhook_timeout_problem,
)
from at_voice_kit.simulator.engine.events import EventFaults

_HOST = schema_pattern(r"^[A-Za-z0-9.:_\[\]-]{1,253}$")
_ADMIN_TOKEN = schema_pattern(r"^[\x21-\x7e]{16,256}$")
ADMIN_TOKEN_RULE = "must be 16 to 256 printable ASCII characters, no spaces"  # noqa: S105


def config_from_environment(environ: Mapping[str, str]) -> SimulatorConfig:
    """The configuration ``at_voice_kit.simulator.serving.asgi`` serves: ``ATSIM_CONFIG`` (a
    YAML file), then ``ATSIM_SEED``, ``ATSIM_SPEED``, ``ATSIM_ADMIN_TOKEN``,
    ``ATSIM_WEBHOOK_TIMEOUT``, ``ATSIM_PUBLIC_URL`` and ``ATSIM_STRICT`` on top."""
    config = SimulatorConfig()
    if environ.get("ATSIM_CONFIG"):
        config = load_config_file(Path(environ["ATSIM_CONFIG"]))
    seed = None
    if environ.get("ATSIM_SEED"):
        try:
            seed = int(environ["ATSIM_SEED"])
        except ValueError:
            raise ConfigError("ATSIM_SEED must be an integer") from None
    speed = None
    if environ.get("ATSIM_SPEED"):
        try:
            speed = Speed.parse(environ["ATSIM_SPEED"])
        except ValueError as exc:
            raise ConfigError(f"ATSIM_SPEED: {exc}") from None
    timeout = None
    if environ.get("ATSIM_WEBHOOK_TIMEOUT"):
        try:
            timeout = float(environ["ATSIM_WEBHOOK_TIMEOUT"])
        except ValueError:
            timeout = math.nan
        if webhook_timeout_problem(timeout) is not None:
            raise ConfigError(f"ATSIM_WEBHOOK_TIMEOUT {webhook_timeout_problem(timeout)}")
    public_url = environ.get("ATSIM_PUBLIC_URL") or None
    if public_url is not None and url_problem(public_url) is not None:
        raise ConfigError(f"ATSIM_PUBLIC_URL {url_problem(public_url)}")
    return with_options(
        config,
        seed=seed,
        speed=speed,
        admin_token=environ.get("ATSIM_ADMIN_TOKEN") or None,
        webhook_timeout=timeout,
        public_url=public_url,
        strict=strict_from_environment(environ),
    )


STRICT_VARIABLE = "ATSIM_STRICT"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def strict_from_environment(environ: Mapping[str, str]) -> bool | None:
    """``ATSIM_STRICT`` as a boolean (``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/
    ``off``, any case), ``None`` when unset or empty; :class:`ConfigError` for another value."""
    text = environ.get(STRICT_VARIABLE, "").strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{STRICT_VARIABLE} must be 1, true, yes or on (or 0, false, no, off)")


def with_options(
    config: SimulatorConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    seed: int | None = None,
    speed: Speed | None = None,
    accounts: Sequence[Account] = (),
    callback_url: str | None = None,
    events_url: str | None = None,
    admin_token: str | None = None,
    webhook_timeout: float | None = None,
    event_faults: EventFaults | None = None,
    public_url: str | None = None,
    strict: bool | None = None,
) -> SimulatorConfig:
    """``config`` with command-line options applied over it, defaults resolved.

    ``accounts`` replace the keys of same-named accounts (keeping their balance) and add the
    others. ``callback_url``/``events_url`` set the URLs of the default number: the first
    number configured, or ``+254711082000`` if none is.
    """
    merged = {account.username: account for account in config.accounts}
    for account in accounts:
        existing = merged.get(account.username)
        merged[account.username] = (
            replace(existing, api_key=account.api_key) if existing is not None else account
        )
    changed = replace(
        config,
        host=config.host if host is None else host,
        port=config.port if port is None else port,
        seed=config.seed if seed is None else seed,
        speed=config.speed if speed is None else speed,
        accounts=tuple(merged.values()),
        admin_token=config.admin_token if admin_token is None else admin_token,
        webhook_timeout=config.webhook_timeout if webhook_timeout is None else webhook_timeout,
        event_faults=config.event_faults if event_faults is None else event_faults,
        public_url=config.public_url if public_url is None else public_url,
        strict=config.strict if strict is None else strict,
    ).resolved()
    if callback_url is None and events_url is None:
        return changed
    first, *others = changed.numbers
    first = replace(
        first,
        callback_url=first.callback_url if callback_url is None else callback_url,
        events_url=first.events_url if events_url is None else events_url,
    )
    return replace(changed, numbers=(first, *others))


CONFIG_FIELDS = (
    "host",
    "port",
    "seed",
    "speed",
    "accounts",
    "numbers",
    "callees",
    "defaultCallee",
    "tariffs",
    "adminToken",
    "webhookTimeout",
    "eventFaults",
    "publicUrl",
    "strict",
    "hangupCauseWhenAnswered",
)


def load_config_file(path: Path) -> SimulatorConfig:
    """Read and validate a YAML config file; :class:`ConfigError` names the file, key and rule."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(
            f"{path}: must be a YAML mapping of settings ({', '.join(CONFIG_FIELDS)})"
        )
    try:
        return config_from_mapping({} if data is None else data)
    except InvalidSettings as exc:
        lines = "\n".join(f"  {error}" for error in exc.errors)
        raise ConfigError(f"{path}: invalid configuration:\n{lines}") from None


def config_from_mapping(data: object) -> SimulatorConfig:
    """Build a configuration from a parsed YAML/JSON mapping (the config file's shape)."""
    reader = FieldReader(data, "", CONFIG_FIELDS)
    config = SimulatorConfig()
    host = reader.string("host", _HOST, "must be a host name or IP address")
    port = reader.integer("port", 0, 65535)
    seed = reader.integer("seed", 0, MAX_SEED)
    speed = _read_speed(reader)
    accounts = _read_list(reader, "accounts", _read_account, lambda account: account.username)
    numbers = _read_list(reader, "numbers", _read_number, lambda number: number.phone_number)
    callees = _read_list(reader, "callees", _read_callee, lambda callee: callee[0])
    default_callee = config.default_callee
    if reader.present("defaultCallee"):
        value = reader.raw("defaultCallee", required=False)
        sub = FieldReader(value, "defaultCallee", CALLEE_FIELDS)
        default_callee = read_callee_fields(sub)
        reader.errors.extend(sub.errors)
    tariffs = _read_tariffs(reader)
    admin_token = reader.string("adminToken", _ADMIN_TOKEN, ADMIN_TOKEN_RULE)
    webhook_timeout = _read_webhook_timeout(reader)
    event_faults = config.event_faults
    if reader.present("eventFaults"):
        sub = FieldReader(reader.raw("eventFaults", required=False), "eventFaults",
                          EVENT_FAULT_FIELDS)  # fmt: skip
        event_faults = read_event_fault_fields(sub)
        reader.errors.extend(sub.errors)
    public_url = reader.url("publicUrl")
    strict = reader.boolean("strict")
    cause_when_answered = reader.boolean("hangupCauseWhenAnswered")
    reader.raise_if_invalid()
    return replace(
        config,
        host=config.host if isinstance(host, Omitted) else host,
        port=config.port if isinstance(port, Omitted) else port,
        seed=None if isinstance(seed, Omitted) else seed,
        speed=config.speed if speed is None else speed,
        accounts=accounts,
        numbers=numbers,
        callees=callees,
        default_callee=default_callee,
        tariffs=config.tariffs if tariffs is None else tariffs,
        tariff_currency=config.tariff_currency if tariffs is None else None,
        admin_token=None if isinstance(admin_token, Omitted) else admin_token,
        webhook_timeout=config.webhook_timeout if webhook_timeout is None else webhook_timeout,
        event_faults=event_faults,
        public_url=public_url if isinstance(public_url, str) else None,
        strict=config.strict if isinstance(strict, Omitted) else strict,
        hangup_cause_when_answered=(
            config.hangup_cause_when_answered
            if isinstance(cause_when_answered, Omitted)
            else cause_when_answered
        ),
    )


def _read_webhook_timeout(reader: FieldReader) -> float | None:
    value = reader.raw("webhookTimeout", required=False)
    if value is OMITTED:
        return None
    problem = webhook_timeout_problem(value)
    if problem is not None:
        reader.fail("webhookTimeout", problem)
        return None
    assert isinstance(value, int | float)
    return float(value)


def _read_speed(reader: FieldReader) -> Speed | None:
    value = reader.raw("speed", required=False)
    if value is OMITTED:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        reader.fail("speed", Speed.RULE)
        return None
    try:
        return Speed.parse(str(value))
    except ValueError:
        reader.fail("speed", Speed.RULE)
        return None


_T = TypeVar("_T")
_ItemReader = Callable[[object, str, list[FieldError]], _T | None]


def _read_list(
    reader: FieldReader, key: str, read_item: _ItemReader[_T], identity: Callable[[_T], str]
) -> tuple[_T, ...]:
    """Read a list of objects, each with its own path, refusing two with the same identity."""
    items = reader.items(key)
    if isinstance(items, Omitted):
        return ()
    values: list[_T] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"{key}[{index}]"
        value = read_item(item, where, reader.errors)
        if value is None:
            continue
        if identity(value) in seen:
            reader.errors.append(FieldError(where, f"{identity(value)!r} is given twice"))
            continue
        seen.add(identity(value))
        values.append(value)
    return tuple(values)


def _read_account(item: object, where: str, errors: list[FieldError]) -> Account | None:
    sub = FieldReader(item, where, ("username", *ACCOUNT_FIELDS))
    username = sub.username("username", required=True)
    if not sub.present("apiKey"):
        sub.fail("apiKey", "is required")
    changes = read_account_fields(sub)
    errors.extend(sub.errors)
    if sub.errors or isinstance(username, Omitted) or isinstance(changes.api_key, Omitted):
        return None
    account = Account(username, changes.api_key)
    if not isinstance(changes.balance, Omitted):
        account = replace(account, balance=changes.balance)
    if not isinstance(changes.currency, Omitted):
        account = replace(account, currency=changes.currency)
    return account


def _read_number(item: object, where: str, errors: list[FieldError]) -> AtNumber | None:
    sub = FieldReader(item, where, ("phoneNumber", *NUMBER_FIELDS))
    phone_number = sub.phone_number("phoneNumber", required=True)
    changes = read_number_fields(sub)
    errors.extend(sub.errors)
    if sub.errors or isinstance(phone_number, Omitted):
        return None
    return AtNumber(
        phone_number,
        # "" means "the first account": resolved() fills it in once flags have added theirs.
        username="" if isinstance(changes.username, Omitted) else changes.username,
        callback_url=None if isinstance(changes.callback_url, Omitted) else changes.callback_url,
        events_url=None if isinstance(changes.events_url, Omitted) else changes.events_url,
    )


def _read_callee(
    item: object, where: str, errors: list[FieldError]
) -> tuple[str, CalleeScript] | None:
    sub = FieldReader(item, where, ("phoneNumber", *CALLEE_FIELDS))
    phone_number = sub.phone_number("phoneNumber", required=True)
    behaviour = read_callee_fields(sub)
    errors.extend(sub.errors)
    if sub.errors or isinstance(phone_number, Omitted):
        return None
    return phone_number, behaviour


def _read_tariffs(reader: FieldReader) -> tuple[Tariff, ...] | None:
    value = reader.raw("tariffs", required=False)
    if value is OMITTED:
        return None
    if not isinstance(value, Mapping) or not value:
        reader.fail("tariffs", "must map country codes to per-minute rates, e.g. {KE: 2.50}")
        return None
    tariffs = []
    for country, rate in value.items():
        problem = country_code_problem(country)
        amount = decimal_from(rate)
        if problem is not None:
            reader.fail(f"tariffs.{country}", problem)
        elif amount is None or amount < 0:
            reader.fail(f"tariffs.{country}", "must be a non-negative per-minute rate")
        else:
            tariffs.append(Tariff(str(country), amount))
    return tuple(tariffs)
