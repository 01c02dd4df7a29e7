// Talking to the simulator: JSON requests to the admin API and server-sent event streams,
// both carrying the admin token when the simulator has one (kept for this tab only).
//
// The streams are read with fetch rather than EventSource, which cannot send an
// Authorization header: the token would have to travel in the URL, where logs keep it.

const TOKEN_KEY = "atsim-admin-token";
const tokenListeners = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    super(problemText(status, problem));
    this.status = status;
    this.problem = problem;
  }
}

function problemText(status, problem) {
  if (problem && typeof problem === "object") {
    const details = (problem.errors || []).map((e) => `${e.field} ${e.rule}`).join("; ");
    return `${status} ${problem.title || ""}: ${details || problem.detail || ""}`.trim();
  }
  return `HTTP ${status}`;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Called with no argument whenever a request is refused for want of the token.
export function onTokenNeeded(listener) {
  tokenListeners.add(listener);
}

function headers(extra = {}) {
  const all = { ...extra };
  const value = token();
  if (value) all.Authorization = `Bearer ${value}`;
  return all;
}

async function failure(response) {
  let problem = null;
  try {
    problem = await response.json();
  } catch {
    problem = null;
  }
  if (response.status === 401) tokenListeners.forEach((listener) => listener());
  return new ApiError(response.status, problem);
}

// An admin API request; resolves to the decoded JSON answer (null for an empty one).
export async function request(method, path, body) {
  const init = { method, headers: headers(), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/_simulator/${path}`, init);
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// POST a binary body (a recording).
export async function upload(path, blob, type) {
  const response = await fetch(`/_simulator/${path}`, {
    method: "POST",
    headers: headers({ "Content-Type": type }),
    body: blob,
  });
  if (!response.ok) throw await failure(response);
}

// A protected audio file as an object URL (an <audio> element cannot send the token).
export async function audioUrl(path) {
  const response = await fetch(`/_simulator/${path}`, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return URL.createObjectURL(await response.blob());
}

export function phonePath(number) {
  return `phones/${encodeURIComponent(number)}`;
}

// Read one server-sent event stream; onEvent(name, data, id) for each event. Resolves when
// the server ends the stream; rejects on an error answer or a broken connection.
export async function readStream(path, onEvent, signal, onOpen = () => {}) {
  const response = await fetch(`/_simulator/${path}`, {
    headers: headers({ Accept: "text/event-stream" }),
    cache: "no-store",
    signal,
  });
  if (!response.ok) throw await failure(response);
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      dispatch(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
    }
  }
}

function dispatch(block, onEvent) {
  let name = "message";
  let id = null;
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // a keep-alive comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "id") id = value;
    else if (field === "data") data.push(value);
  }
  if (data.length) onEvent(name, JSON.parse(data.join("\n")), id);
}

// Keep a stream open: reconnect after a pause whenever it ends or breaks. path() is asked
// for the path at every (re)connection; onState(true/false) says whether it is up. Returns
// a function that stops it.
export function follow(path, onEvent, onState) {
  const controller = new AbortController();
  let stopped = false;
  (async () => {
    while (!stopped) {
      try {
        await readStream(path(), onEvent, controller.signal, () => onState(true));
      } catch (error) {
        if (stopped) return;
        onState(false, error);
        if (error instanceof ApiError && error.status !== 401 && error.status < 500) return;
      }
      if (stopped) return;
      onState(false);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  })();
  return () => {
    stopped = true;
    controller.abort();
  };
}
