"""A person on a call: how the engine runs a call whose phone user is live.

A simulated user's behaviour is drawn before each step (the keys and when they are pressed,
how long they talk). A person's is awaited: the call shows them each prompt through their
:class:`~at_voice_kit.simulator.engine.line.LiveLine` and waits, in real time (their call runs
on a :class:`~at_voice_kit.simulator.engine.clock.LineClock`), for what they do. The ActionXML
rules are the same ones (:class:`~at_voice_kit.simulator.engine.phone_user.DigitCollector`,
Record's ``finishOnKey`` and ``maxLength``); only who decides differs.

Choices where AT is silent (docs/fidelity.md says them): keys count from the moment a ``GetDigits``
listens, its prompt included (a key during the prompt stops it: barge-in), so a key pressed
during an earlier ``Say`` is dropped; a phone rings for 45 s before it counts as unanswered
(``EngineOptions.live_ring_seconds``); a person who hangs up while recording leaves the
recording in the final request, as a simulated one does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import timedelta

from at_voice_kit.contracts.actionxml.model import GetDigits, Play, Prompt, Record, Say
from at_voice_kit.simulator.engine.callee import CalleeAnswer
from at_voice_kit.simulator.engine.clock import LineClock, Wakeup
from at_voice_kit.simulator.engine.line import (
    EventValue,
    KeyPress,
    LineAction,
    LineEvent,
    LineEventKind,
    LineInput,
    LiveLine,
    RecordedAudio,
)
from at_voice_kit.simulator.engine.phone_user import DigitCollector

PLAY_LIMIT_SECONDS = 600.0
"""The longest a ``Play`` waits for the person's phone to say the audio ended."""
UPLOAD_WAIT_SECONDS = 30.0
"""How long the platform waits for a recording the person's phone is sending."""
RECORD_LIMIT_SECONDS = 3600.0
"""A ``Record`` without ``maxLength`` stops after an hour, AT's default."""
TERMINAL_RECORD_SECONDS = 86_400.0
"""A terminal ``Record`` runs until the person hangs up: at most a day."""


class LiveCaller:
    """The engine's end of a person's line: what they do, queued as it arrives, and waited
    for on their call's clock. Implements :class:`~at_voice_kit.simulator.engine.line.LineInputs`.

    ``on_hangup`` is called once, the moment the person hangs up (the call then ends
    wherever it is); ``hung_up`` stays true.
    """

    __slots__ = ("_inbox", "_wakeup", "clock", "hung_up", "line", "on_hangup", "session_id")

    def __init__(self, line: LiveLine, session_id: str, clock: LineClock) -> None:
        self.line = line
        self.session_id = session_id
        self.clock = clock
        self.hung_up = False
        self.on_hangup: Callable[[], None] = lambda: None
        self._inbox: deque[LineInput] = deque()
        self._wakeup: Wakeup | None = None

    # -- from the person ------------------------------------------------------------------

    def receive(self, item: LineInput) -> None:
        """Take what the person did; a hang-up ends the call at once."""
        if self.hung_up:
            return
        if item is LineAction.HANGUP:
            self.hung_up = True
            self.on_hangup()
            return
        self._inbox.append(item)
        if self._wakeup is not None:
            self._wakeup.fire(None)

    # -- to the person --------------------------------------------------------------------

    def show(self, kind: LineEventKind, **details: EventValue) -> None:
        """Show the person something about their call."""
        self.line.show(LineEvent(kind, self.session_id, details))

    # -- waiting for the person -----------------------------------------------------------

    async def next_input(
        self, seconds: float, wanted: Callable[[LineInput], bool]
    ) -> LineInput | None:
        """The first thing the person does within ``seconds`` that ``wanted`` accepts (others
        are dropped), or ``None`` once the time is up or they hung up."""
        deadline = self.clock.now() + timedelta(seconds=max(seconds, 0.0))
        while True:
            while self._inbox:
                item = self._inbox.popleft()
                if wanted(item):
                    return item
            left = (deadline - self.clock.now()).total_seconds()
            if self.hung_up or left <= 0:
                return None
            self._wakeup = Wakeup()
            try:
                await self.clock.wait(self._wakeup, left)
            finally:
                self._wakeup = None

    async def next_key(self, seconds: float) -> str | None:
        """The next key pressed within ``seconds``, or ``None``."""
        item = await self.next_input(seconds, lambda item: isinstance(item, KeyPress))
        return item.key if isinstance(item, KeyPress) else None

    def drop_keys(self) -> None:
        """Forget keys pressed before now (a GetDigits listens from its start only)."""
        self._inbox = deque(item for item in self._inbox if not isinstance(item, KeyPress))

    def recording_handed_in(self) -> RecordedAudio | None:
        """A recording the person's phone sent already (before they hung up), if any."""
        for item in self._inbox:
            if isinstance(item, RecordedAudio):
                return item
        return None

    async def ring(self, from_number: str, seconds: float) -> CalleeAnswer:
        """Ring the person's phone: answered, rejected, or not answered after ``seconds``."""
        self.show(LineEventKind.RINGING, **{"from": from_number})
        answer = await self.next_input(
            seconds, lambda item: item in (LineAction.ANSWER, LineAction.REJECT)
        )
        if answer is LineAction.ANSWER:
            return CalleeAnswer.ANSWERED
        if answer is LineAction.REJECT or self.hung_up:
            return CalleeAnswer.REJECTED
        return CalleeAnswer.NO_ANSWER

    async def speak(self, say: Say, estimate: float) -> float:
        """Play a ``Say`` to the person; how long it lasts (``estimate`` without speech)."""
        seconds = await self.line.speak(self.session_id, say.text, say.effective_voice.value)
        return estimate if seconds is None else seconds

    async def play(self, play: Play) -> None:
        """Play an audio file to the person; return once their phone says it ended."""
        self.show(LineEventKind.PLAY, url=play.url)
        await self.next_input(PLAY_LIMIT_SECONDS, lambda item: item is LineAction.PLAYED)

    async def prompt(self, prompt: Prompt | None, estimate: float) -> float:
        """Start a GetDigits or Record prompt; how long it lasts (0 for none)."""
        if isinstance(prompt, Say):
            return await self.speak(prompt, estimate)
        if isinstance(prompt, Play):
            self.show(LineEventKind.PLAY, url=prompt.url)
            return estimate
        return 0.0

    async def collect(self, action: GetDigits, finish_on_key: str | None, prompt: float) -> str:
        """Listen for keys as GetDigits does; the digits collected (``""``: no input).

        A key pressed during the prompt stops it; then each key must come within
        ``timeout`` seconds of the one before (of the prompt's end, for the first).
        """
        timeout = float(action.effective_timeout)
        collector = DigitCollector(num_digits=action.num_digits, finish_on_key=finish_on_key)
        key = await self.next_key(prompt)
        if key is not None:
            self.show(LineEventKind.PROMPT_STOPPED)
        else:
            key = await self.next_key(timeout)
        while key is not None and not collector.press(key):
            key = await self.next_key(timeout)
        self.show(LineEventKind.DIGITS_DONE, digits=collector.digits)
        return collector.digits

    async def record(self, action: Record | None) -> RecordedAudio | None:
        """Record until the person's phone stops (they pressed stop, or fell silent), they
        press ``finishOnKey``, ``maxLength`` runs out, or they hang up; what was recorded.

        ``action`` ``None``: a terminal Record, which only a hang-up ends.
        """
        finish = action.finish_on_key if action is not None else None
        limit = RECORD_LIMIT_SECONDS
        if action is not None and action.max_length is not None:
            limit = float(action.max_length)

        def ends_recording(item: LineInput) -> bool:
            if isinstance(item, RecordedAudio):
                return True
            return bool(finish) and isinstance(item, KeyPress) and item.key in (finish or "")

        ended = await self.next_input(
            limit if action is not None else TERMINAL_RECORD_SECONDS, ends_recording
        )
        if isinstance(ended, RecordedAudio):
            return ended
        if self.hung_up:
            return self.recording_handed_in()
        self.show(LineEventKind.RECORD_STOP)
        sent = await self.next_input(
            UPLOAD_WAIT_SECONDS, lambda item: isinstance(item, RecordedAudio)
        )
        if isinstance(sent, RecordedAudio):
            return sent
        return self.recording_handed_in()
