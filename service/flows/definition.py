"""Call flows as data: named steps of ActionXML actions, and routes between them.

A flow is loaded from YAML (see ``menu.yaml``) and checked once, at start-up: every route
names an existing step, every step is reachable from ``start``, every action is valid
ActionXML, and a step that routes on input ends with the GetDigits or Record that collects
it. A flow that breaks any of these refuses to load, naming the step and the problem.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from at_voice_kit.contracts import actionxml as ax

STEP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}\Z")  # \Z: "$" would allow a final "\n"
SHIPPED_FLOWS_DIR = Path(__file__).resolve().parent
PLACEHOLDER_URL = "https://flow.invalid/voice/instruct"


class FlowError(ValueError):
    """A flow file that cannot run; the message names the file, the step and the problem."""


@dataclass(frozen=True, slots=True)
class GotoStep:
    """A pseudo-action: continue the call at another step (rendered as ``<Redirect>``)."""

    step: str


FlowAction = ax.Action | GotoStep


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a flow: what the caller hears and does, and where input leads."""

    name: str
    actions: tuple[FlowAction, ...]
    on_digits: Mapping[str, str] = field(default_factory=dict)
    on_unknown: str | None = None
    on_no_input: str | None = None
    on_recording: str | None = None

    @property
    def collects_input(self) -> bool:
        """True when the step routes on what the caller does (``on_unknown`` alone routes
        every key pressed)."""
        return bool(self.on_digits) or self.on_unknown is not None or self.on_recording is not None

    def targets(self) -> list[str]:
        """Every step this one can lead to."""
        found = [*self.on_digits.values()]
        found += [t for t in (self.on_unknown, self.on_no_input, self.on_recording) if t]
        found += [a.step for a in self.actions if isinstance(a, GotoStep)]
        return found


@dataclass(frozen=True, slots=True)
class FlowDefinition:
    """A checked flow: its steps by name and the step a new call starts at."""

    start: str
    steps: Mapping[str, Step]
    source: str = "<memory>"


_ELEMENTS: dict[str, type[Any]] = {
    "say": ax.Say,
    "play": ax.Play,
    "get_digits": ax.GetDigits,
    "dial": ax.Dial,
    "record": ax.Record,
    "enqueue": ax.Enqueue,
    "dequeue": ax.Dequeue,
    "redirect": ax.Redirect,
    "reject": ax.Reject,
    "conference": ax.Conference,
}
_SHORTHAND = {"say": "text", "play": "url", "redirect": "url", "dequeue": "phone_number"}
_STEP_KEYS = {"actions", "on_digits", "on_unknown", "on_no_input", "on_recording"}


def resolve_flow_path(setting: str | None) -> Path:
    """The flow file for ``VOICE_FLOW_FILE``: unset means the welcome flow, a bare name
    (``menu``) means a flow shipped with the service, anything else is a path."""
    if setting is None:
        return SHIPPED_FLOWS_DIR / "welcome.yaml"
    shipped = SHIPPED_FLOWS_DIR / f"{setting}.yaml"
    if "/" not in setting and not setting.endswith((".yaml", ".yml")) and shipped.is_file():
        return shipped
    return Path(setting).expanduser()


class _FlowLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a mapping key written as a number is kept as
    written: ``on_digits`` keys are what the caller presses, and YAML 1.1 would read ``010``
    as 8 (octal), ``1_0`` as 10 and ``1:30`` as 90, silently routing other keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag in _NUMBER_TAGS:
                key_node.tag = "tag:yaml.org,2002:str"
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


def load_flow(path: Path) -> FlowDefinition:
    """Read and check a flow file; :class:`FlowError` names what is wrong."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_FlowLoader)  # noqa: S506
    except OSError as exc:
        raise FlowError(f"{path}: cannot read the flow file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise FlowError(f"{path}: not valid YAML: {exc}") from exc
    return parse_flow(document, source=str(path))


def parse_flow(document: object, *, source: str = "<memory>") -> FlowDefinition:
    """Build and check a flow from its parsed YAML document."""
    if not isinstance(document, dict) or set(document) - {"start", "steps"}:
        raise FlowError(f"{source}: a flow is a mapping with 'start' and 'steps' only")
    raw_steps = document.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        raise FlowError(f"{source}: 'steps' must map step names to steps")
    steps = {str(name): _parse_step(source, str(name), body) for name, body in raw_steps.items()}
    start = document.get("start")
    if not isinstance(start, str) or start not in steps:
        raise FlowError(f"{source}: 'start' must name one of the steps {sorted(steps)}")
    flow = FlowDefinition(start=start, steps=steps, source=source)
    _check_routes(flow)
    return flow


def _parse_step(source: str, name: str, body: object) -> Step:
    where = f"{source}: step {name!r}"
    if not STEP_NAME.match(name):
        raise FlowError(f"{where}: a step name is a letter then letters, digits, '_' or '-'")
    if not isinstance(body, dict) or "actions" not in body:
        raise FlowError(f"{where}: a step is a mapping with an 'actions' list")
    unknown = sorted(set(body) - _STEP_KEYS)
    if unknown:
        raise FlowError(f"{where}: unknown key {unknown[0]!r} (allowed: {sorted(_STEP_KEYS)})")
    actions = body["actions"]
    if not isinstance(actions, list) or not actions:
        raise FlowError(f"{where}: 'actions' must be a non-empty list")
    on_digits = body.get("on_digits") or {}
    if not isinstance(on_digits, dict):
        raise FlowError(f"{where}: 'on_digits' must map digits to step names")
    routes = {}
    for digits, target in on_digits.items():
        if not re.fullmatch(r"[0-9*#]{1,32}", str(digits)):
            raise FlowError(f"{where}: on_digits key {digits!r} must be digits, '*' or '#'")
        routes[str(digits)] = _step_name(where, "on_digits", target)
    return Step(
        name=name,
        actions=tuple(_parse_action(f"{where}, action {i + 1}", a) for i, a in enumerate(actions)),
        on_digits=routes,
        on_unknown=_optional_step_name(where, "on_unknown", body.get("on_unknown")),
        on_no_input=_optional_step_name(where, "on_no_input", body.get("on_no_input")),
        on_recording=_optional_step_name(where, "on_recording", body.get("on_recording")),
    )


def _step_name(where: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise FlowError(f"{where}: {key} must name a step")
    return value


def _optional_step_name(where: str, key: str, value: object) -> str | None:
    return None if value is None else _step_name(where, key, value)


def _parse_action(where: str, raw: object) -> FlowAction:
    if isinstance(raw, str) and raw in ("reject", "conference"):
        raw = {raw: {}}
    if not isinstance(raw, dict) or len(raw) != 1:
        raise FlowError(f"{where}: an action is a mapping with one key, e.g. 'say: Hello'")
    ((kind, value),) = raw.items()
    if kind == "goto":
        return GotoStep(_step_name(where, "goto", value))
    cls = _ELEMENTS.get(kind)
    if cls is None:
        raise FlowError(f"{where}: unknown action {kind!r} (use one of {sorted(_ELEMENTS)}, goto)")
    if kind == "record" and value == "terminal":
        return ax.Record(terminal=True)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        if kind not in _SHORTHAND:
            raise FlowError(f"{where}: {kind} takes a mapping of attributes")
        value = {_SHORTHAND[kind]: value}
    return _build(where, kind, cls, dict(value))


def _build(where: str, kind: str, cls: type[Any], attributes: dict[str, Any]) -> ax.Action:
    if kind in ("get_digits", "record"):
        prompts = [k for k in ("say", "play") if k in attributes]
        if len(prompts) > 1:
            raise FlowError(f"{where}: {kind} takes one prompt, 'say' or 'play'")
        if prompts:
            attributes["prompt"] = _parse_action(where, {prompts[0]: attributes.pop(prompts[0])})
    if kind == "dial" and isinstance(attributes.get("phone_numbers"), str):
        attributes["phone_numbers"] = [
            n.strip() for n in attributes["phone_numbers"].split(",") if n.strip()
        ]
    if isinstance(attributes.get("phone_numbers"), list):
        attributes["phone_numbers"] = tuple(str(n) for n in attributes["phone_numbers"])
    if "voice" in attributes:
        try:
            attributes["voice"] = ax.Voice(attributes["voice"])
        except ValueError:
            raise FlowError(
                f"{where}: {kind}.voice must be man or woman, or a voice name such as "
                "en-US-Standard-C"
            ) from None
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key, value in attributes.items():
        if key not in names:
            raise FlowError(f"{where}: {kind} has no attribute {key!r} (has {sorted(names)})")
        if not _fits(value, hints[key]):
            raise FlowError(f"{where}: {kind}.{key} has the wrong type: {value!r}")
    action: ax.Action = cls(**attributes)
    return action


def _fits(value: object, hint: object) -> bool:
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    for option in options:
        origin = typing.get_origin(option) or option
        if option is type(None) and value is None:
            return True
        if origin is tuple and isinstance(value, tuple):
            return all(isinstance(v, str) for v in value)
        if origin is bool and isinstance(value, bool):
            return True
        if origin is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        plain_type = isinstance(origin, type) and origin not in (bool, int, tuple)
        if plain_type and isinstance(value, origin):
            return True
    return False


def _check_routes(flow: FlowDefinition) -> None:
    for step in flow.steps.values():
        where = f"{flow.source}: step {step.name!r}"
        for target in step.targets():
            if target not in flow.steps:
                raise FlowError(f"{where}: leads to unknown step {target!r}")
        if step.collects_input or step.on_no_input or step.on_unknown:
            _check_input_step(where, step)
    reachable = {flow.start}
    frontier = [flow.start]
    while frontier:
        for target in flow.steps[frontier.pop()].targets():
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    unreachable = sorted(set(flow.steps) - reachable)
    if unreachable:
        raise FlowError(
            f"{flow.source}: step {unreachable[0]!r} is unreachable from start step {flow.start!r}"
        )


def _check_input_step(where: str, step: Step) -> None:
    last = step.actions[-1]
    if not isinstance(last, ax.GetDigits | ax.Record) or (
        isinstance(last, ax.Record) and last.terminal
    ):
        raise FlowError(f"{where}: routes on input, so its last action must be GetDigits or Record")
    if last.callback_url is not None:
        raise FlowError(
            f"{where}: the flow sets the callback URL of its input action; remove callback_url"
        )
    for key, routes in (("on_digits", step.on_digits), ("on_unknown", step.on_unknown)):
        if routes and not isinstance(last, ax.GetDigits):
            raise FlowError(f"{where}: {key} needs a GetDigits as the last action")
    if step.on_recording and not isinstance(last, ax.Record):
        raise FlowError(f"{where}: on_recording needs a Record as the last action")
