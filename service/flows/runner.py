"""Answering AT's callback requests from a flow, statelessly.

The flow position travels in the callback URL (``?step=<name>``): GetDigits and Record get a
``callbackUrl`` naming their step, and ``goto``/no-input become a ``<Redirect>`` to the target
step's URL. So any worker, on any instance, can answer any request of any call. The meaning
of ``step`` is: when the request carries input (``dtmfDigits``, ``recordingUrl``), route from
that step; otherwise, play that step.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from at_voice_kit.contracts import actionxml as ax
from at_voice_kit.service.flows.definition import (
    PLACEHOLDER_URL,
    FlowAction,
    FlowDefinition,
    FlowError,
    GotoStep,
    Step,
)
from at_voice_kit.service.webhook_forms import CallbackRequest

log = logging.getLogger(__name__)

STEP_PARAM = "step"
RENDERED_CACHE_SIZE = 1024
"""Rendered documents kept per flow (step x base URL); the cache starts over when full."""


@dataclass(frozen=True, slots=True)
class StepUrls:
    """Builds the URL of a step on this service: the callback URL plus ``?step=``.

    ``secret`` is carried along when the webhooks are protected by ``VOICE_WEBHOOK_SECRET``.
    """

    base_url: str
    secret: str | None = None

    def for_step(self, step: str) -> str:
        """The URL AT should call to continue at ``step``."""
        query = {STEP_PARAM: step}
        if self.secret is not None:
            query["secret"] = self.secret
        return f"{self.base_url}?{urlencode(query)}"


class CallFlow:
    """A checked flow, ready to answer callback requests."""

    def __init__(self, definition: FlowDefinition) -> None:
        self.definition = definition
        self._documents: dict[tuple[str, StepUrls], str] = {}
        placeholder = StepUrls(PLACEHOLDER_URL)
        for step in definition.steps.values():
            problems = ax.validate(self._response(step, placeholder))
            if problems:
                raise FlowError(
                    f"{definition.source}: step {step.name!r}: invalid ActionXML: "
                    + "; ".join(str(problem) for problem in problems)
                )

    def step_for(self, callback: CallbackRequest, position: str | None) -> Step:
        """The step that answers this request (see the module docstring)."""
        steps = self.definition.steps
        current = steps.get(position) if position is not None else None
        if current is None:
            if position is not None:
                log.warning("unknown flow step %r (flow changed mid-call?): restarting", position)
            return steps[self.definition.start]
        if callback.dtmf_digits is not None and (current.on_digits or current.on_unknown):
            return steps[self._route_digits(current, callback.dtmf_digits)]
        if callback.recording_url is not None and current.on_recording is not None:
            return steps[current.on_recording]
        return current

    @staticmethod
    def _route_digits(step: Step, digits: str) -> str:
        for candidate in (digits, digits.rstrip("#*")):
            if candidate in step.on_digits:
                return step.on_digits[candidate]
        return step.on_unknown or step.name

    def respond(self, callback: CallbackRequest, position: str | None, urls: StepUrls) -> str:
        """The ActionXML document answering this request."""
        return self._rendered(self.step_for(callback, position).name, urls)

    def _rendered(self, step_name: str, urls: StepUrls) -> str:
        # A step's document depends only on the step and its URLs, which repeat from call to
        # call: render (and check) each once. Bounded, since URLs follow the Host header.
        key = (step_name, urls)
        document = self._documents.get(key)
        if document is None:
            document = ax.render(self._response(self.definition.steps[step_name], urls))
            if len(self._documents) >= RENDERED_CACHE_SIZE:
                self._documents.clear()
            self._documents[key] = document
        return document

    def _response(self, step: Step, urls: StepUrls) -> ax.Response:
        actions: list[ax.Action] = [self._concrete(action, urls) for action in step.actions]
        if step.collects_input or step.on_no_input is not None:
            last = actions[-1]
            assert isinstance(last, ax.GetDigits | ax.Record)
            actions[-1] = dataclasses.replace(last, callback_url=urls.for_step(step.name))
            if step.on_no_input is not None:
                # AT sends nothing when no input arrives and runs the next action.
                actions.append(ax.Redirect(urls.for_step(step.on_no_input)))
        return ax.Response(tuple(actions))

    @staticmethod
    def _concrete(action: FlowAction, urls: StepUrls) -> ax.Action:
        if isinstance(action, GotoStep):
            return ax.Redirect(urls.for_step(action.step))
        return action
