// The live call board: every call on the simulator, pushed by the feed as it happens, and
// the open call's timeline growing with it. The board (re)loads from /_simulator/board and
// then follows the feed from that position, so a reload or a reconnection loses nothing.

import { request } from "./api.js";
import { byId, clear, clock, el, offset, webUrl } from "./dom.js";

const HIDDEN_NOTES = new Set(["in-flow", "answered", "ringing", "not-answered"]);
const KEPT_CALLS = 2000; // the page keeps the latest calls; older ones are found by session id
const calls = new Map(); // sessionId -> the call as the board shows it, oldest first
let total = 0;
let open = null; // { sessionId, position, call, items, loaded, pending }
const filters = { number: "", direction: "", outcome: "" };

// -- the feed -----------------------------------------------------------------------------

export async function loadBoard() {
  const board = await request("GET", "board");
  calls.clear();
  for (const call of board.calls) calls.set(call.sessionId, call);
  total = board.total;
  renderList();
  if (open) await openCall(open.sessionId);
  return board;
}

// One feed event (name, data, id); returns false when the board must be loaded again.
export function onFeedEvent(name, data, id) {
  const sequence = id === null ? 0 : Number(id);
  if (name === "missed") return false;
  if (name === "reset") {
    calls.clear();
    total = 0;
    closeCall();
    renderList();
    return true;
  }
  if (name === "call") {
    if (!calls.has(data.call.sessionId)) {
      total += 1;
      if (calls.size >= KEPT_CALLS) calls.delete(calls.keys().next().value);
    }
    calls.set(data.call.sessionId, data.call);
    soon(renderList);
    if (open && open.sessionId === data.call.sessionId) {
      open.call = data.call;
      soon(renderDetail);
    }
    return true;
  }
  const item = timelineItem(name, data);
  if (item && open && open.sessionId === data.sessionId) {
    if (!open.loaded) open.pending.push({ sequence, item });
    else if (sequence > open.position) {
      open.items.push(item);
      soon(renderDetail);
    }
  }
  return true;
}

// Render at most once a frame: under --speed fast the feed brings hundreds of events a second.
const pending = new Set();
function soon(render) {
  if (pending.size === 0) {
    requestAnimationFrame(() => {
      const renders = [...pending];
      pending.clear();
      renders.forEach((fn) => fn());
    });
  }
  pending.add(render);
}

function timelineItem(name, data) {
  if (name === "webhook") return { kind: "webhook", at: data.webhook.startedAt, data: data.webhook };
  if (name === "note") return { kind: "note", at: data.note.at, data: data.note };
  if (name === "request") return { kind: "request", at: data.request.startedAt, data: data.request };
  return null;
}

// -- the list -----------------------------------------------------------------------------

export function setFilter(name, value) {
  filters[name] = value;
  renderList();
}

function matches(call) {
  const number = filters.number.trim();
  if (number && ![call.phoneNumber, call.atNumber, call.sessionId].some((v) => v.includes(number))) {
    return false;
  }
  if (filters.direction && call.direction !== filters.direction) return false;
  const outcome = call.outcome;
  switch (filters.outcome) {
    case "live":
      return call.phase !== "ended";
    case "answered":
      return outcome !== null && outcome.callSessionState === "Completed";
    case "not-answered":
      return outcome !== null && outcome.callSessionState === "NotAnswered";
    case "app-failed":
      return outcome !== null && outcome.reason.startsWith("app failure");
    default:
      return true;
  }
}

function renderList() {
  const list = byId("calls");
  const shown = [...calls.values()].filter(matches).reverse();
  clear(list);
  for (const call of shown) list.append(callRow(call));
  const more = total > calls.size ? ` (the latest ${calls.size} of ${total} are listed)` : "";
  byId("call-count").textContent = `${shown.length} of ${calls.size} calls${more}`;
}

function callRow(call) {
  const live = call.phase !== "ended";
  const arrow = call.direction === "Inbound" ? "⇠" : "⇢";
  const parties = call.direction === "Inbound"
    ? `${call.phoneNumber} → ${call.atNumber}`
    : `${call.atNumber} → ${call.phoneNumber}`;
  return el(
    "li",
    {
      class: `call ${live ? "live" : ""} ${open && open.sessionId === call.sessionId ? "selected" : ""}`,
      dataset: { session: call.sessionId, phase: call.phase },
      tabindex: "0",
      onclick: () => openCall(call.sessionId),
      onkeydown: (event) => event.key === "Enter" && openCall(call.sessionId),
    },
    el("span", { class: "call-time", text: clock(call.createdAt) }),
    el("span", { class: "call-dir", title: call.direction, text: arrow }),
    el("span", { class: "call-parties", text: parties }),
    el("span", { class: `badge ${badgeClass(call)}`, text: outcomeText(call) }),
    el("span", { class: "call-cost", text: costText(call) }),
  );
}

function outcomeText(call) {
  if (!call.outcome) return call.phase;
  return call.outcome.hangupCause;
}

function badgeClass(call) {
  if (!call.outcome) return "badge-live";
  if (call.outcome.reason.startsWith("app failure")) return "badge-bad";
  return call.outcome.callSessionState === "Completed" ? "badge-ok" : "badge-warn";
}

function costText(call) {
  if (!call.outcome) return "";
  return `${call.outcome.durationInSeconds} s · ${call.outcome.currencyCode} ${call.outcome.amount}`;
}

// -- one call -----------------------------------------------------------------------------

export async function openCall(sessionId) {
  open = { sessionId, position: 0, call: calls.get(sessionId) || null, items: [], loaded: false, pending: [] };
  byId("detail").hidden = false;
  renderList();
  const detail = await request("GET", `board/calls/${encodeURIComponent(sessionId)}`);
  if (!open || open.sessionId !== sessionId) return;
  open.position = detail.position;
  open.call = detail.call;
  open.items = [
    ...detail.requests.map((data) => ({ kind: "request", at: data.startedAt, data })),
    ...detail.webhooks.map((data) => ({ kind: "webhook", at: data.startedAt, data })),
    ...detail.notes.map((data) => ({ kind: "note", at: data.at, data })),
  ];
  for (const { sequence, item } of open.pending) {
    if (sequence > open.position) open.items.push(item);
  }
  open.pending = [];
  open.loaded = true;
  renderDetail();
}

function closeCall() {
  open = null;
  byId("detail").hidden = true;
  renderList();
}

export function setUpDetail() {
  byId("detail-close").addEventListener("click", closeCall);
}

function renderDetail() {
  if (!open || !open.call) return;
  const call = open.call;
  byId("detail-title").textContent = `${call.direction} ${call.atNumber} ⇄ ${call.phoneNumber} · ${call.sessionId}`;
  renderOutcome(call);
  const start = call.clockStart || (call.outcome && call.outcome.queuedAt);
  const items = open.items
    .map((item, index) => ({ ...item, index }))
    .sort((a, b) => order(a) - order(b) || byTime(a, b) || a.index - b.index);
  const list = clear(byId("timeline"));
  list.dataset.items = String(items.length);
  for (const item of items) {
    const row = renderItem(item, start);
    if (row) list.append(row);
  }
}

// API requests first: they are stamped by the wall clock, the call's lines by its own clock
// (virtual under --speed fast), so the two cannot be interleaved by time.
function order(item) {
  return item.kind === "request" ? 0 : 1;
}

function byTime(a, b) {
  return Date.parse(a.at) - Date.parse(b.at) || (a.kind === "note" ? 0 : 1) - (b.kind === "note" ? 0 : 1);
}

function renderOutcome(call) {
  const box = clear(byId("detail-outcome"));
  const outcome = call.outcome;
  if (!outcome) {
    box.append(el("span", { class: "badge badge-live", text: `live: ${call.phase}` }));
    return;
  }
  box.append(
    el("span", { class: `badge ${badgeClass(call)}`, text: `${outcome.callSessionState}/${outcome.status} ${outcome.hangupCause}` }),
    ` ${outcome.durationInSeconds} s, ${outcome.currencyCode} ${outcome.amount} · ${outcome.reason}`,
  );
  for (const leg of outcome.legs) {
    box.append(el("div", { class: "leg", text: `Dial leg ${leg.phoneNumber}: rang ${leg.ringSeconds} s, ${leg.hangupCause || "connected"}` }));
  }
  for (const url of outcome.recordingUrls) box.append(recordingPlayer(url));
}

function renderItem(item, start) {
  const at = offset(start, item.at);
  if (item.kind === "note") {
    if (HIDDEN_NOTES.has(item.data.text)) return null;
    const row = el("li", { class: "item note" }, el("span", { class: "at", text: at }), el("span", { text: item.data.text }));
    const recorded = item.data.text.match(/ -> (\S+\.wav)$/);
    if (recorded) row.append(recordingPlayer(recorded[1]));
    return row;
  }
  if (item.kind === "request") {
    const r = item.data;
    return el("li", { class: "item request" }, el("span", { class: "at", text: clock(r.startedAt) }),
      el("span", { text: `API ${r.method} ${r.path} by ${r.username || "?"} → ${r.status}` }));
  }
  return webhookItem(item.data, at);
}

function webhookItem(webhook, at) {
  const failed = webhook.error !== null || webhook.status === null || webhook.status < 200 || webhook.status >= 300;
  const sent = webhook.kind === "event"
    ? `event ${webhook.form.eventType || "?"}`
    : `callback ${callbackFields(webhook.form)}`;
  const details = el(
    "details",
    { class: "webhook-details" },
    el("summary", {},
      el("span", { class: "at", text: at }),
      el("span", { class: `kind kind-${webhook.kind}`, text: webhook.kind }),
      el("span", { class: "sent", text: sent }),
      el("span", { class: `status ${failed ? "status-bad" : "status-ok"}`, text: webhook.error ? "no answer" : String(webhook.status) }),
      el("span", { class: "latency", text: `${webhook.elapsedMs} ms` }),
      el("span", { class: "answer", text: actions(webhook) }),
    ),
    el("div", { class: "url", text: webhook.url }),
    fieldsTable(webhook.form),
    answerBody(webhook),
  );
  if (webhook.note) details.append(el("p", { class: "problem", text: `⚠ ${webhook.note}` }));
  if (webhook.error) details.append(el("p", { class: "problem", text: webhook.error }));
  return el("li", { class: `item webhook ${failed || (webhook.actionXml && !webhook.actionXml.ok) ? "bad" : ""}` }, details);
}

// What the app answered, past its status (shown on its own).
function actions(webhook) {
  const status = String(webhook.status);
  return webhook.summary.startsWith(status) ? webhook.summary.slice(status.length).trim() : webhook.summary;
}

function callbackFields(form) {
  if (form.isActive === "0") return `final ${form.callSessionState}/${form.status} ${form.hangupCause}`;
  const parts = ["isActive=1"];
  if ("dtmfDigits" in form) parts.push(`dtmfDigits=${form.dtmfDigits}`);
  if ("recordingUrl" in form) parts.push(`recordingUrl=${form.recordingUrl || '""'}`);
  return parts.join(" ");
}

function fieldsTable(form) {
  return el("table", { class: "fields" },
    el("tbody", {}, Object.entries(form).map(([name, value]) => el("tr", {}, el("th", { text: name }), el("td", { text: value })))));
}

function answerBody(webhook) {
  const box = el("div", { class: "body" });
  if (!webhook.body) {
    box.append(el("p", { class: "muted", text: webhook.error ? "" : "(empty answer)" }));
    return box;
  }
  const review = webhook.actionXml;
  const size = webhook.bodyTruncated ? ` (first ${webhook.body.length} of ${webhook.bodySize} characters)` : "";
  box.append(el("div", { class: "muted", text: `answer${size}` }));
  if (review && review.pretty) box.append(prettyBody(review));
  else box.append(numberedBody(webhook.body, review));
  if (review && review.problems.length) {
    box.append(el("ul", { class: "problems" }, review.problems.map((p) =>
      el("li", { class: p.severity, text: `${p.severity}: ${p.line ? `line ${p.line}: ` : ""}${p.path}: ${p.message} [${p.rule}]` }))));
  }
  return box;
}

// The pretty-printed answer, each line naming an element a problem is about marked.
function prettyBody(review) {
  const elements = new Set(review.problems.map((p) => p.element).filter(Boolean));
  const opens = (line, name) => {
    const tag = line.trimStart();
    return tag.startsWith(`<${name}`) && " \t/>".includes(tag.charAt(name.length + 1) || "x");
  };
  const marked = (line) => [...elements].some((name) => opens(line, name));
  return el("pre", { class: "xml" }, review.pretty.split("\n").map((line) =>
    el("span", { class: marked(line) ? "line marked" : "line", text: `${line}\n` })));
}

function numberedBody(body, review) {
  const marked = new Set((review ? review.problems : []).map((p) => p.line).filter(Boolean));
  return el("pre", { class: "xml raw" }, body.split("\n").map((line, index) =>
    el("span", { class: marked.has(index + 1) ? "line marked" : "line", text: `${String(index + 1).padStart(3)}  ${line}\n` })));
}

function recordingPlayer(url) {
  const source = webUrl(url);
  if (!source) return el("span", { text: url });
  return el("div", { class: "recording-player" },
    el("audio", { controls: true, preload: "none", src: source }),
    el("a", { href: source, target: "_blank", rel: "noopener", text: "WAV" }));
}
