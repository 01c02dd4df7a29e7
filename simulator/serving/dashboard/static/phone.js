// The dev phone: a softphone with its own number. While it is online, the simulator puts
// calls to that number through to this page, in real time: it rings, and whoever uses the
// page answers, listens (every Say rendered by the simulator, with captions; Play from its
// URL), presses keys, talks into the microphone for a Record, and hangs up when they like.
// It can also call an AT number (an inbound call for the app).

import { audioUrl, follow, phonePath, request, upload } from "./api.js";
import { byId, clear, el, webUrl } from "./dom.js";
import { MicRecorder } from "./recorder.js";
import { beep, keyTone, ring } from "./tones.js";

const NUMBER_KEY = "atsim-dev-phone-number";
const KEYS = new Set(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]);

const phone = {
  number: null,
  stop: null, // stops the line's stream
  sessionId: null,
  state: "offline",
  stopRinging: null,
  queue: [], // audio waiting to be played, in order
  playing: null,
  recorder: null,
  recordingStarted: 0,
  recordingTimer: null,
  listening: false,
};

export function setUpPhone(defaultNumber) {
  byId("phone-number").value = localStorage.getItem(NUMBER_KEY) || defaultNumber;
  byId("phone-online").addEventListener("click", toggleOnline);
  byId("answer").addEventListener("click", () => act("answer"));
  byId("reject").addEventListener("click", () => act("reject"));
  byId("hangup").addEventListener("click", hangUp);
  byId("dial").addEventListener("click", dial);
  byId("recording-stop").addEventListener("click", () => finishRecording());
  for (const button of byId("keypad").querySelectorAll("button[data-key]")) {
    button.addEventListener("click", () => press(button.dataset.key));
  }
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
    if (!typing && KEYS.has(event.key) && phone.sessionId) {
      event.preventDefault();
      press(event.key);
    }
  });
  const audio = byId("phone-audio");
  audio.addEventListener("playing", () => {
    audio.dataset.playing = audio.dataset.item || "";
    audio.dataset.played = String(Number(audio.dataset.played || "0") + 1);
  });
  audio.addEventListener("ended", () => finishedPlaying());
  audio.addEventListener("error", () => finishedPlaying());
}

export function setDialTargets(numbers) {
  const select = clear(byId("dial-to"));
  for (const number of numbers) {
    select.append(el("option", { value: number.phoneNumber, text: number.phoneNumber }));
  }
}

// -- the line -----------------------------------------------------------------------------

function toggleOnline() {
  if (phone.stop) goOffline();
  else goOnline();
}

function goOnline() {
  const number = byId("phone-number").value.trim();
  localStorage.setItem(NUMBER_KEY, number);
  phone.number = number;
  byId("phone-number").disabled = true;
  byId("phone-online").textContent = "Go offline";
  byId("phone-online").classList.add("on");
  showError("");
  phone.stop = follow(() => `${phonePath(number)}/events`, onLineEvent, (up, error) => {
    if (error) showError(error.message);
    const refused = error && error.status && error.status < 500 && error.status !== 401;
    if (refused) resetOnline(); // not a number a phone may hold: nothing to retry
    else if (!up && phone.stop) setState("reconnecting…");
  });
}

async function goOffline() {
  if (phone.sessionId) await hangUp(); // leaving the line ends the call on it
  resetOnline();
}

function resetOnline() {
  if (phone.stop) phone.stop();
  phone.stop = null;
  callOver();
  setState("offline");
  byId("phone-number").disabled = false;
  byId("phone-online").textContent = "Go online";
  byId("phone-online").classList.remove("on");
}

function onLineEvent(name, data) {
  const handler = HANDLERS[name];
  if (handler) handler(data);
}

const HANDLERS = {
  status(data) {
    if (data.state === "idle") {
      if (phone.sessionId) callOver();
      setState("ready");
      byId("phone-peer").textContent = `calls to ${data.number} ring here`;
    } else {
      phone.sessionId = data.sessionId;
      setState(data.state === "in-call" ? "in call" : data.state);
      byId("phone-peer").textContent = data.peer || "";
    }
    byId("phone-activity").textContent = data.activity || "";
  },
  ringing(data) {
    phone.sessionId = data.sessionId;
    setState("ringing");
    byId("phone-peer").textContent = `${data.from} is calling`;
    clear(byId("captions"));
    byId("incoming").hidden = false;
    phone.stopRinging = ring();
  },
  connected(data) {
    phone.sessionId = data.sessionId;
    stopRinging();
    setState("in call");
    byId("phone-peer").textContent = `${data.direction === "Inbound" ? "calling" : "call from"} ${data.peer}`;
  },
  say(data) {
    caption("say", data.text);
    if (data.speechId) enqueue({ item: `say:${data.speechId}`, path: `speech/${data.speechId}.wav` });
  },
  play(data) {
    caption("play", `♪ ${data.url}`);
    enqueue({ item: `play:${data.url}`, url: data.url, tellPlayed: true });
  },
  digits(data) {
    phone.listening = true;
    const how = [data.numDigits ? `${data.numDigits} key(s)` : "keys", data.finishOnKey ? `then ${data.finishOnKey}` : ""];
    byId("phone-activity").textContent = `listening for ${how.join(" ")} (${data.timeout} s)`;
    byId("keypad").classList.add("listening");
  },
  "digits-done"(data) {
    phone.listening = false;
    byId("keypad").classList.remove("listening");
    byId("phone-activity").textContent = data.digits ? `sent ${data.digits}` : "no input";
  },
  "prompt-stopped"() {
    stopAudio();
  },
  record(data) {
    startRecording(data);
  },
  "record-stop"() {
    finishRecording();
  },
  recorded(data) {
    const source = webUrl(data.url);
    const line = caption("recorded", `recorded ${Number(data.seconds).toFixed(1)} s`);
    if (source) line.append(el("audio", { controls: true, preload: "none", src: source }));
  },
  bridged(data) {
    byId("phone-activity").textContent = `talking to ${data.number}`;
  },
  ended(data) {
    caption("ended", `call ended: ${data.hangupCause || "cancelled"} (${data.reason})`);
    callOver();
    setState("ready");
  },
};

function setState(text) {
  phone.state = text;
  const box = byId("phone-state");
  box.textContent = text;
  box.dataset.state = text;
  const inCall = Boolean(phone.sessionId);
  byId("hangup").disabled = !inCall;
  byId("dial").disabled = !phone.stop || inCall || text === "offline";
  if (text !== "ringing") byId("incoming").hidden = true;
}

function showError(text) {
  byId("phone-error").textContent = text;
}

function caption(kind, text) {
  const line = el("li", { class: `caption ${kind}`, text });
  byId("captions").append(line);
  line.scrollIntoView({ block: "nearest" });
  return line;
}

function stopRinging() {
  if (phone.stopRinging) phone.stopRinging();
  phone.stopRinging = null;
  byId("incoming").hidden = true;
}

function callOver() {
  stopRinging();
  stopAudio();
  if (phone.recorder) finishRecording({ upload: false });
  phone.sessionId = null;
  phone.listening = false;
  byId("keypad").classList.remove("listening");
  byId("phone-activity").textContent = "";
}

// -- what the person does -----------------------------------------------------------------

async function act(action, extra = {}) {
  if (!phone.sessionId) return;
  if (action === "answer" || action === "reject") stopRinging();
  try {
    await request("POST", `${phonePath(phone.number)}/actions`, { sessionId: phone.sessionId, action, ...extra });
  } catch (error) {
    showError(error.message);
  }
}

function press(key) {
  keyTone(key);
  const pressed = byId("keypad").querySelector(`button[data-key="${CSS.escape(key)}"]`);
  if (pressed) {
    pressed.classList.add("pressed");
    setTimeout(() => pressed.classList.remove("pressed"), 150);
  }
  act("key", { key });
}

async function hangUp() {
  if (phone.recorder) await finishRecording();
  const wasRinging = phone.state === "ringing";
  await act(wasRinging ? "reject" : "hangup");
}

async function dial() {
  const to = byId("dial-to").value;
  if (!to || !phone.number) return;
  clear(byId("captions"));
  showError("");
  try {
    const call = await request("POST", `${phonePath(phone.number)}/calls`, { to });
    phone.sessionId = call.sessionId;
    setState("calling");
    byId("phone-peer").textContent = `calling ${to}`;
  } catch (error) {
    showError(error.message);
  }
}

// -- what the person hears ----------------------------------------------------------------

function enqueue(clip) {
  phone.queue.push(clip);
  if (!phone.playing) playNext();
}

async function playNext() {
  const clip = phone.queue.shift();
  phone.playing = clip || null;
  if (!clip) return;
  const audio = byId("phone-audio");
  try {
    const source = clip.path ? await audioUrl(clip.path) : webUrl(clip.url);
    if (!source || phone.playing !== clip) throw new Error("cannot be played");
    audio.dataset.item = clip.item;
    audio.src = source;
    await audio.play();
  } catch {
    finishedPlaying();
  }
}

function finishedPlaying() {
  const clip = phone.playing;
  if (!clip) return;
  if (clip.path) URL.revokeObjectURL(byId("phone-audio").src);
  if (clip.tellPlayed) act("played");
  playNext();
}

function stopAudio() {
  phone.queue = [];
  phone.playing = null;
  byId("phone-audio").pause();
}

// -- recording ----------------------------------------------------------------------------

async function startRecording(data) {
  if (data.beep) beep();
  const box = byId("recording");
  box.hidden = false;
  phone.recordingStarted = performance.now();
  phone.recordingTimer = setInterval(() => {
    const seconds = (performance.now() - phone.recordingStarted) / 1000;
    byId("recording-time").textContent = `${seconds.toFixed(1)} s`;
  }, 100);
  byId("phone-activity").textContent = data.finishOnKey ? `recording: press ${data.finishOnKey} to finish` : "recording";
  const recorder = new MicRecorder();
  phone.recorder = recorder;
  recorder.ready = recorder.start().catch((error) => {
    showError(`no microphone (${error.message}): the simulator records a murmur as long as you talk`);
    recorder.failed = true;
  });
}

// Stop recording and hand the recording to the call (unless told not to).
async function finishRecording({ upload: send = true } = {}) {
  const recorder = phone.recorder;
  if (!recorder) return;
  phone.recorder = null;
  clearInterval(phone.recordingTimer);
  byId("recording").hidden = true;
  const held = (performance.now() - phone.recordingStarted) / 1000;
  const sessionId = phone.sessionId;
  await recorder.ready;
  if (recorder.failed) {
    await recorder.stop().catch(() => {});
    if (send) await act("recorded", { seconds: Math.round(held * 10) / 10 });
    return;
  }
  const { wav } = await recorder.stop();
  if (!send || !sessionId) return;
  try {
    await upload(`${phonePath(phone.number)}/recording?sessionId=${encodeURIComponent(sessionId)}`, wav, "audio/wav");
  } catch (error) {
    showError(error.message);
  }
}
