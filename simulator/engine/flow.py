"""Executing the app's ActionXML on a call, element by element, as AT does.

Actions run in order. An action that posts to the app (GetDigits with input, a partial
Record, Redirect) continues the call with the document the app answers; what was left of the
old one is dropped. When no action is left, AT hangs up. Say lasts in proportion to its
text, Play a plausible time (nothing is fetched). Dial, Enqueue and Dequeue live in
:mod:`at_voice_kit.simulator.engine.bridging`.
"""

from __future__ import annotations

from collections import deque

from at_voice_kit.contracts.actionxml.model import (
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
)
from at_voice_kit.contracts.vocabulary import CallSessionState, CallStatus, HangupCause
from at_voice_kit.simulator.engine.bridging import dequeue, dial, enqueue
from at_voice_kit.simulator.engine.call_line import AppCallLine
from at_voice_kit.simulator.engine.line import LineEventKind, RecordedAudio
from at_voice_kit.simulator.engine.live_caller import TERMINAL_RECORD_SECONDS, LiveCaller
from at_voice_kit.simulator.engine.outcomes import Ending
from at_voice_kit.simulator.engine.phone_user import collect_digits
from at_voice_kit.simulator.engine.signals import CallOver
from at_voice_kit.simulator.engine.timing import draw

REJECT_ON_ANSWERED_CALL = Ending(
    CallSessionState.COMPLETED, CallStatus.SUCCESS, HangupCause.CALL_REJECTED
)
"""``<Reject/>`` once a call is already answered: AT hangs up; the seconds so far are billed."""


async def execute(call: AppCallLine, response: Response) -> None:
    """Run a document's actions until none is left (then AT hangs up) or the call ends."""
    actions: deque[Action] = deque(response.actions)
    while actions:
        follow_up = await perform(call, actions.popleft())
        if follow_up is not None:
            actions = deque(follow_up.actions)


async def perform(call: AppCallLine, action: Action) -> Response | None:
    """Execute one action; return the app's next document when the action fetched one."""
    timing = call.options.timing
    if call.live is not None and isinstance(action, Say | Play | GetDigits | Record):
        return await perform_live(call, action, call.live)
    match action:
        case Say():
            call.note(f"Say ({len(action.text)} characters)")
            await call.spend(timing.say_seconds(action.text, beep=bool(action.play_beep)))
        case Play():
            call.note(f"Play {action.url}")
            await call.spend(draw(timing.play, call.rng))
        case GetDigits():
            return await get_digits(call, action)
        case Record() if action.terminal:
            await record_until_hangup(call)
        case Record():
            return await record_partial(call, action)
        case Redirect():
            call.note(f"Redirect to {action.url}")
            call.follow(action.url)
            return await call.fetch_or_fail()
        case Reject():
            raise CallOver(REJECT_ON_ANSWERED_CALL, "Reject on an answered call: AT hung up")
        case Dial():
            await dial(call, action)
        case Enqueue():
            await enqueue(call, action)
        case Dequeue():
            await dequeue(call, action)
        case Conference():
            await hold_line(call)
    return None


def prompt_seconds(call: AppCallLine, prompt: Prompt | None) -> float:
    """How long a GetDigits/Record prompt plays."""
    timing = call.options.timing
    if isinstance(prompt, Say):
        return timing.say_seconds(prompt.text, beep=bool(prompt.play_beep))
    if isinstance(prompt, Play):
        return draw(timing.play, call.rng)
    return 0.0


async def get_digits(call: AppCallLine, action: GetDigits) -> Response | None:
    """Play the prompt, collect the user's keys; post them, or move on without input."""
    await call.spend(prompt_seconds(call, action.prompt))
    finish = action.finish_on_key
    if finish is None:
        finish = call.options.default_finish_on_key
    timeout = float(action.effective_timeout)
    presses = call.user.key_presses(action, finish, timeout)
    outcome = collect_digits(
        presses, num_digits=action.num_digits, finish_on_key=finish, timeout=timeout
    )
    await call.spend(outcome.seconds)
    if not outcome.digits:
        call.note("GetDigits: no input")
        return None
    call.note(f"GetDigits: {outcome.digits}")
    return await call.fetch_or_fail((("dtmfDigits", outcome.digits),), action.callback_url)


async def perform_live(
    call: AppCallLine, action: Say | Play | GetDigits | Record, live: LiveCaller
) -> Response | None:
    """The actions a person on the line hears or answers, in real time; the others run as
    for a simulated user."""
    match action:
        case Say():
            call.note(f"Say ({len(action.text)} characters)")
            estimate = call.options.timing.say_seconds(action.text, beep=bool(action.play_beep))
            await call.spend(await live.speak(action, estimate))
        case Play():
            call.note(f"Play {action.url}")
            await live.play(action)
            await call.spend(0.0)  # notices a hang-up during the Play
        case GetDigits():
            return await get_digits_live(call, action, live)
        case Record():
            return await record_live(call, action, live)
    return None


async def get_digits_live(
    call: AppCallLine, action: GetDigits, live: LiveCaller
) -> Response | None:
    """GetDigits with a person on the line: the prompt plays, their keys are awaited as they
    press them (a key during the prompt stops it), with the same rules as a simulated user's."""
    finish = action.finish_on_key
    if finish is None:
        finish = call.options.default_finish_on_key
    live.drop_keys()
    live.show(
        LineEventKind.DIGITS,
        numDigits=action.num_digits,
        finishOnKey=finish,
        timeout=action.effective_timeout,
    )
    prompt = await live.prompt(action.prompt, prompt_seconds(call, action.prompt))
    digits = await live.collect(action, finish, prompt)
    if call.person_left():
        raise call.user_hangup()
    if not digits:
        call.note("GetDigits: no input")
        return None
    call.note(f"GetDigits: {digits}")
    return await call.fetch_or_fail((("dtmfDigits", digits),), action.callback_url)


async def record_live(call: AppCallLine, action: Record, live: LiveCaller) -> Response | None:
    """Record what the person says, until they (or ``finishOnKey``, ``maxLength``) stop it; a
    terminal Record keeps them on the line until they hang up. The recording is theirs: the
    WAV their phone sent (or, from a phone without a microphone, a voice-like one as long)."""
    timing = call.options.timing
    prompt = await live.prompt(action.prompt, prompt_seconds(call, action.prompt))
    await call.spend(prompt + (timing.beep if action.play_beep else 0.0))
    live.drop_keys()
    live.show(
        LineEventKind.RECORD,
        finishOnKey=action.finish_on_key,
        maxLength=action.max_length,
        terminal=action.terminal,
        beep=bool(action.play_beep),
    )
    url = _store_live_recording(call, live, await live.record(None if action.terminal else action))
    if action.terminal:
        call.keep_final_recording(url)
        await call.spend(TERMINAL_RECORD_SECONDS)  # on the line, silent, until they hang up
        raise call.user_hangup("the phone user hung up after a terminal recording")
    if call.person_left():
        call.keep_final_recording(url)
        raise call.user_hangup("the phone user hung up during a recording")
    if action.callback_url:
        call.follow(action.callback_url)
    return await call.fetch_or_fail((("recordingUrl", url),))


def _store_live_recording(call: AppCallLine, live: LiveCaller, audio: RecordedAudio | None) -> str:
    """Keep what the person recorded; its ``recordingUrl`` (``""``: nothing was recorded)."""
    if audio is None or audio.seconds <= 0:
        call.note("Record: nothing recorded")
        return ""
    if audio.wav is not None:
        url = call.store_audio(audio.wav, audio.seconds)
    else:
        url = call.store_recording(audio.seconds, 0.0)
    call.note(f"Record: {audio.seconds:.1f} s -> {url}")
    live.show(LineEventKind.RECORDED, url=url, seconds=audio.seconds)
    return url


async def record_partial(call: AppCallLine, action: Record) -> Response | None:
    """Record until finishOnKey, maxLength, the silence timeout or hang-up; post ``recordingUrl``.

    The user talks, then presses finishOnKey if there is one. With none they fall silent:
    ``timeout`` seconds of silence end the recording (AT's default is 3600), unless the user
    loses patience first and hangs up (the URL then goes in the final request). ``maxLength``
    caps the whole recording. A Record's callbackUrl becomes the call's callback URL from
    then on (AT's Record documentation).
    """
    timing = call.options.timing
    beep = timing.beep if action.play_beep else 0.0
    await call.spend(prompt_seconds(call, action.prompt) + beep)
    speech = call.user.speech_seconds()
    if action.finish_on_key:
        wanted, user_leaves = speech + draw(timing.first_key, call.rng), False
    else:
        patience, silence_timeout = call.user.silence_patience(), float(action.effective_timeout)
        wanted, user_leaves = speech + min(patience, silence_timeout), patience < silence_timeout
    if action.max_length is not None and action.max_length <= wanted:
        wanted, user_leaves = float(action.max_length), False
    url = await _record(call, speech, round(wanted, 3), trim=bool(action.trim_silence))
    if user_leaves:
        call.keep_final_recording(url)
        raise call.user_hangup("the phone user hung up during a recording")
    if action.callback_url:
        call.follow(action.callback_url)
    return await call.fetch_or_fail((("recordingUrl", url),))


async def record_until_hangup(call: AppCallLine) -> None:
    """Terminal Record: record until the user hangs up; the URL goes in the final request."""
    speech = call.user.speech_seconds()
    length = round(speech + call.user.silence_patience(), 3)
    await _record(call, speech, length, trim=False, final=True)
    raise call.user_hangup("the phone user hung up after a terminal recording")


async def _record(
    call: AppCallLine, speech: float, length: float, *, trim: bool, final: bool = False
) -> str:
    """Spend ``length`` seconds recording (less if the user hangs up) and store the WAV."""
    remaining = call.remaining()
    cut = remaining is not None and remaining <= length
    length = min(length, remaining) if remaining is not None else length
    spoken = min(speech, length)
    url = ""
    if spoken > 0:  # AT: "If no file was recorded, this variable will contain an empty string"
        silence = 0.0 if trim else length - spoken
        url = call.store_recording(spoken, silence)
    # The recording holds the speech and, unless trimmed, the silence until it ended: say
    # both, so a 5 s message kept 7.9 s long does not read as a wrong length.
    kept = spoken if trim else length
    call.note(
        f"Record: {kept:.1f} s, {spoken:.1f} s of speech"
        + (f" -> {url}" if url else " (nothing recorded)")
    )
    if cut or final:
        call.keep_final_recording(url)
    await call.spend(length)
    return url


async def hold_line(call: AppCallLine) -> None:
    """Conference (undocumented by AT): the caller stays on the line until they hang up."""
    call.note("Conference: holding the line")
    await call.spend(draw(call.options.timing.talk, call.rng))
    raise call.user_hangup("the phone user left the conference")
