// The dashboard: the call board, the dev phone and the controls, all fed by the simulator
// over one live feed (server-sent events: pushed, never polled).

import { ApiError, follow, onTokenNeeded, request, setToken } from "./api.js";
import { loadBoard, onFeedEvent, setFilter, setUpDetail } from "./board.js";
import { byId } from "./dom.js";
import { refreshControls, setUpControls } from "./controls.js";
import { setDialTargets, setUpPhone } from "./phone.js";

let position = 0;
let feedStarted = false;
let controlsTimer = null;

function showConnection(up) {
  const pill = byId("connection");
  pill.textContent = up ? "live" : "reconnecting…";
  pill.className = up ? "pill pill-on" : "pill pill-off";
  pill.dataset.live = up ? "true" : "false";
}

function askForToken() {
  byId("token-banner").hidden = false;
  byId("token-input").focus();
}

async function showHealth() {
  const health = await request("GET", "health");
  const seed = health.seeded ? ` · seed ${health.seed ?? "set"}` : "";
  byId("health").textContent = `atsim ${health.version} · speed ${health.speed}${seed} · ${health.liveCalls} live`;
}

// Balances and queues change as calls end: refresh the controls then, at most every 2 s.
function controlsSoon() {
  if (controlsTimer) return;
  controlsTimer = setTimeout(() => {
    controlsTimer = null;
    refreshControls().catch(() => {});
    showHealth().catch(() => {});
  }, 2000);
}

async function reload() {
  const board = await loadBoard();
  position = board.position;
}

function onFeed(name, data, id) {
  if (id !== null) position = Math.max(position, Number(id));
  if (name === "hello") {
    if (data.missed) reload().catch(() => {});
    return;
  }
  if (!onFeedEvent(name, data, id)) {
    reload().catch(() => {});
    return;
  }
  if (name === "reset" || name === "call") controlsSoon();
}

async function start() {
  try {
    const board = await loadBoard();
    position = board.position;
    setUpPhone(board.devPhone);
    if (!board.speech) byId("phone-error").textContent = "espeak-ng is not installed: Say is shown as captions only";
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) askForToken();
    else byId("call-count").textContent = `the simulator did not answer: ${error.message}`;
    return;
  }
  byId("token-banner").hidden = true;
  await Promise.all([refreshControls(), showHealth()]).catch(() => {});
  if (!feedStarted) {
    feedStarted = true;
    follow(() => `feed?after=${position}`, onFeed, showConnection);
  }
}

function setUp() {
  setUpDetail();
  setUpControls(setDialTargets);
  onTokenNeeded(askForToken);
  byId("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(byId("token-input").value.trim());
    byId("token-error").textContent = "";
    start().catch((error) => {
      byId("token-error").textContent = error.message;
    });
  });
  byId("filter-number").addEventListener("input", (event) => setFilter("number", event.target.value));
  byId("filter-direction").addEventListener("change", (event) => setFilter("direction", event.target.value));
  byId("filter-outcome").addEventListener("change", (event) => setFilter("outcome", event.target.value));
  byId("filters").addEventListener("submit", (event) => event.preventDefault());
  start();
}

setUp();
