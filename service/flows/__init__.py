"""Call flows: what the service answers to AT's callback requests, declared in YAML."""

from __future__ import annotations

from at_voice_kit.service.flows.definition import (
    FlowDefinition,
    FlowError,
    GotoStep,
    Step,
    load_flow,
    parse_flow,
    resolve_flow_path,
)
from at_voice_kit.service.flows.runner import STEP_PARAM, CallFlow, StepUrls

__all__ = [
    "STEP_PARAM",
    "CallFlow",
    "FlowDefinition",
    "FlowError",
    "GotoStep",
    "Step",
    "StepUrls",
    "load_flow",
    "parse_flow",
    "resolve_flow_path",
]
