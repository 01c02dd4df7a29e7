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
from at_voice_kit.simulator.engine.line import LineEventKind, RecordedAudio
from at_voice_kit.simulator.engine.live_caller import TERMINAL_RECORD_SECONDS, LiveCaller
from at_voice_kit.simulator.engine.outcomes import Ending
from at_voice_kit.simulator.engine.phone_user import collect_digits
from at_voice_kit.simulator.engine.runner import CallRun
from at_voice_kit.simulator.engine.signals import CallOver
from at_voice_kit.simulator.engine.timing import draw

REJECT_ON_ANSWERED_CALL = Ending(
    CallSessionState.COMPLETED, CallStatus.SUCCESS, HangupCause.CALL_REJECTED
)
"""``<Reject/>`` once a call is already answered: AT hangs up; the seconds so far are billed."""


async def execute(run: CallRun, response: Response) -> None:
    """Run a document's actions until none is left (then AT hangs up) or the call ends."""
    actions: deque[Action] = deque(response.actions)
    while actions:
        follow_up = await perform(run, actions.popleft())
        if follow_up is not None:
            actions = deque(follow_up.actions)


async def perform(run: CallRun, action: Action) -> Response | None:
    """Execute one action; return the app's next document when the action fetched one."""
    timing = run.context.options.timing
    if run.live is not None and isinstance(action, Say | Play | GetDigits | Record):
        return await perform_live(run, action, run.live)
    match action:
        case Say():
            run.note(f"Say ({len(action.text)} characters)")
            await run.spend(timing.say_seconds(action.text, beep=bool(action.play_beep)))
        case Play():
            run.note(f"Play {action.url}")
            await run.spend(draw(timing.play, run.rng))
        case GetDigits():
            return await get_digits(run, action)
        case Record() if action.terminal:
            await record_until_hangup(run)
        case Record():
            return await record_partial(run, action)
        case Redirect():
            run.note(f"Redirect to {action.url}")
            run.url = action.url
            return await run.fetch_or_fail()
        case Reject():
            raise CallOver(REJECT_ON_ANSWERED_CALL, "Reject on an answered call: AT hung up")
        case Dial():
            await dial(run, action)
        case Enqueue():
            await enqueue(run, action)
        case Dequeue():
            await dequeue(run, action)
        case Conference():
            await hold_line(run)
    return None


def prompt_seconds(run: CallRun, prompt: Prompt | None) -> float:
    """How long a GetDigits/Record prompt plays."""
    timing = run.context.options.timing
    if isinstance(prompt, Say):
        return timing.say_seconds(prompt.text, beep=bool(prompt.play_beep))
    if isinstance(prompt, Play):
        return draw(timing.play, run.rng)
    return 0.0


async def get_digits(run: CallRun, action: GetDigits) -> Response | None:
    """Play the prompt, collect the user's keys; post them, or move on without input."""
    await run.spend(prompt_seconds(run, action.prompt))
    finish = action.finish_on_key
    if finish is None:
        finish = run.context.options.default_finish_on_key
    timeout = float(action.effective_timeout)
    presses = run.user.key_presses(action, finish, timeout)
    outcome = collect_digits(
        presses, num_digits=action.num_digits, finish_on_key=finish, timeout=timeout
    )
    await run.spend(outcome.seconds)
    if not outcome.digits:
        run.note("GetDigits: no input")
        return None
    run.note(f"GetDigits: {outcome.digits}")
    return await run.fetch_or_fail((("dtmfDigits", outcome.digits),), action.callback_url)


async def perform_live(
    run: CallRun, action: Say | Play | GetDigits | Record, live: LiveCaller
) -> Response | None:
    """The actions a person on the line hears or answers, in real time; the others run as
    for a simulated user."""
    match action:
        case Say():
            run.note(f"Say ({len(action.text)} characters)")
            estimate = run.context.options.timing.say_seconds(
                action.text, beep=bool(action.play_beep)
            )
            await run.spend(await live.speak(action, estimate))
        case Play():
            run.note(f"Play {action.url}")
            await live.play(action)
            await run.spend(0.0)  # notices a hang-up during the Play
        case GetDigits():
            return await get_digits_live(run, action, live)
        case Record():
            return await record_live(run, action, live)
    return None


async def get_digits_live(run: CallRun, action: GetDigits, live: LiveCaller) -> Response | None:
    """GetDigits with a person on the line: the prompt plays, their keys are awaited as they
    press them (a key during the prompt stops it), with the same rules as a simulated user's."""
    finish = action.finish_on_key
    if finish is None:
        finish = run.context.options.default_finish_on_key
    live.drop_keys()
    live.show(
        LineEventKind.DIGITS,
        numDigits=action.num_digits,
        finishOnKey=finish,
        timeout=action.effective_timeout,
    )
    prompt = await live.prompt(action.prompt, prompt_seconds(run, action.prompt))
    digits = await live.collect(action, finish, prompt)
    if run.person_left():
        raise run.user_hangup()
    if not digits:
        run.note("GetDigits: no input")
        return None
    run.note(f"GetDigits: {digits}")
    return await run.fetch_or_fail((("dtmfDigits", digits),), action.callback_url)


async def record_live(run: CallRun, action: Record, live: LiveCaller) -> Response | None:
    """Record what the person says, until they (or ``finishOnKey``, ``maxLength``) stop it; a
    terminal Record keeps them on the line until they hang up. The recording is theirs: the
    WAV their phone sent (or, from a phone without a microphone, a voice-like one as long)."""
    timing = run.context.options.timing
    prompt = await live.prompt(action.prompt, prompt_seconds(run, action.prompt))
    await run.spend(prompt + (timing.beep if action.play_beep else 0.0))
    live.drop_keys()
    live.show(
        LineEventKind.RECORD,
        finishOnKey=action.finish_on_key,
        maxLength=action.max_length,
        terminal=action.terminal,
        beep=bool(action.play_beep),
    )
    url = _store_live_recording(run, live, await live.record(None if action.terminal else action))
    if action.terminal:
        run.facts.final_recording_url = url
        await run.spend(TERMINAL_RECORD_SECONDS)  # on the line, silent, until they hang up
        raise run.user_hangup("the phone user hung up after a terminal recording")
    if run.person_left():
        run.facts.final_recording_url = url
        raise run.user_hangup("the phone user hung up during a recording")
    if action.callback_url:
        run.url = action.callback_url
    return await run.fetch_or_fail((("recordingUrl", url),))


def _store_live_recording(run: CallRun, live: LiveCaller, audio: RecordedAudio | None) -> str:
    """Keep what the person recorded; its ``recordingUrl`` (``""``: nothing was recorded)."""
    if audio is None or audio.seconds <= 0:
        run.note("Record: nothing recorded")
        return ""
    recordings, session_id = run.context.ports.recordings, run.facts.session_id
    if audio.wav is not None:
        recording = recordings.add_audio(session_id, audio.wav, audio.seconds)
    else:
        recording = recordings.add(session_id, audio.seconds, 0.0)
    run.recordings.append(recording.url)
    run.note(f"Record: {audio.seconds:.1f} s -> {recording.url}")
    live.show(LineEventKind.RECORDED, url=recording.url, seconds=audio.seconds)
    return recording.url


async def record_partial(run: CallRun, action: Record) -> Response | None:
    """Record until finishOnKey, maxLength, the silence timeout or hang-up; post ``recordingUrl``.

    The user talks, then presses finishOnKey if there is one. With none they fall silent:
    ``timeout`` seconds of silence end the recording (AT's default is 3600), unless the user
    loses patience first and hangs up (the URL then goes in the final request). ``maxLength``
    caps the whole recording. A Record's callbackUrl becomes the call's callback URL from
    then on (AT's Record documentation).
    """
    timing = run.context.options.timing
    beep = timing.beep if action.play_beep else 0.0
    await run.spend(prompt_seconds(run, action.prompt) + beep)
    speech = run.user.speech_seconds()
    if action.finish_on_key:
        wanted, user_leaves = speech + draw(timing.first_key, run.rng), False
    else:
        patience, silence_timeout = run.user.silence_patience(), float(action.effective_timeout)
        wanted, user_leaves = speech + min(patience, silence_timeout), patience < silence_timeout
    if action.max_length is not None and action.max_length <= wanted:
        wanted, user_leaves = float(action.max_length), False
    url = await _record(run, speech, round(wanted, 3), trim=bool(action.trim_silence))
    if user_leaves:
        run.facts.final_recording_url = url
        raise run.user_hangup("the phone user hung up during a recording")
    if action.callback_url:
        run.url = action.callback_url
    return await run.fetch_or_fail((("recordingUrl", url),))


async def record_until_hangup(run: CallRun) -> None:
    """Terminal Record: record until the user hangs up; the URL goes in the final request."""
    speech = run.user.speech_seconds()
    length = round(speech + run.user.silence_patience(), 3)
    await _record(run, speech, length, trim=False, final=True)
    raise run.user_hangup("the phone user hung up after a terminal recording")


async def _record(
    run: CallRun, speech: float, length: float, *, trim: bool, final: bool = False
) -> str:
    """Spend ``length`` seconds recording (less if the user hangs up) and store the WAV."""
    remaining = run.remaining()
    cut = remaining is not None and remaining <= length
    length = min(length, remaining) if remaining is not None else length
    spoken = min(speech, length)
    url = ""
    if spoken > 0:  # AT: "If no file was recorded, this variable will contain an empty string"
        silence = 0.0 if trim else length - spoken
        recording = run.context.ports.recordings.add(run.facts.session_id, spoken, silence)
        url = recording.url
        run.recordings.append(url)
    run.note(f"Record: {length:.1f} s" + (f" -> {url}" if url else " (nothing recorded)"))
    if cut or final:
        run.facts.final_recording_url = url
    await run.spend(length)
    return url


async def hold_line(run: CallRun) -> None:
    """Conference (undocumented by AT): the caller stays on the line until they hang up."""
    run.note("Conference: holding the line")
    await run.spend(draw(run.context.options.timing.talk, run.rng))
    raise run.user_hangup("the phone user left the conference")
