// Everything the admin API can do, without curl: AT numbers and their URLs, callee scripts,
// event faults, accounts and balances, simulated inbound callers, queues, reset.

import { request } from "./api.js";
import { byId, clear, el } from "./dom.js";

let onNumbers = () => {};

export function setUpControls(numbersChanged) {
  onNumbers = numbersChanged;
  for (const tab of document.querySelectorAll(".tabs button[data-tab]")) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }
  submit("number-form", saveNumber);
  submit("callee-form", saveCallee);
  submit("faults-form", saveFaults);
  submit("account-form", saveAccount);
  submit("inbound-form", dialIn);
  byId("reset").addEventListener("click", reset);
}

function submit(id, action) {
  const form = byId(id);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const done = await action(Object.fromEntries(new FormData(form)), form);
      message(done || "saved", false);
      await refreshControls();
    } catch (error) {
      message(error.message, true);
    }
  });
}

function message(text, bad) {
  const box = byId("controls-message");
  box.textContent = text;
  box.className = bad ? "message error" : "message";
}

function showTab(name) {
  for (const tab of document.querySelectorAll(".tabs button[data-tab]")) {
    tab.classList.toggle("active", tab.dataset.tab === name);
  }
  for (const panel of document.querySelectorAll(".tab[data-panel]")) {
    panel.hidden = panel.dataset.panel !== name;
  }
}

const path = (collection, key) => `${collection}/${encodeURIComponent(key.trim())}`;

function optional(value) {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function seconds(value) {
  const text = optional(value);
  return text === undefined ? undefined : Number(text);
}

// -- saving -------------------------------------------------------------------------------

async function saveNumber(fields) {
  const body = {};
  for (const name of ["username", "callbackUrl", "eventsUrl"]) {
    const value = optional(fields[name]);
    if (value !== undefined) body[name] = value;
  }
  await request("PUT", path("numbers", fields.phoneNumber), body);
  return `number ${fields.phoneNumber.trim()} saved`;
}

async function saveCallee(fields) {
  const body = { answer: fields.answer };
  const digits = optional(fields.digits);
  if (digits !== undefined) body.digits = digits.split(",").map((entry) => entry.trim());
  const hangupAfter = seconds(fields.hangupAfter);
  if (hangupAfter !== undefined) body.hangupAfter = hangupAfter;
  const speech = seconds(fields.speechSeconds);
  if (speech !== undefined) body.speechSeconds = speech;
  await request("PUT", path("callees", fields.phoneNumber), body);
  return `script for ${fields.phoneNumber.trim()} saved`;
}

async function saveFaults(fields) {
  const body = {};
  for (const name of ["delayProbability", "duplicateProbability", "reorderProbability"]) {
    const value = seconds(fields[name]);
    if (value !== undefined) body[name] = value;
  }
  const low = seconds(fields.delayLow);
  const high = seconds(fields.delayHigh);
  if (low !== undefined || high !== undefined) body.delaySeconds = [low ?? 0, high ?? low ?? 0];
  await request("PUT", "event-faults", body);
  return "event faults saved";
}

async function saveAccount(fields) {
  const body = {};
  const key = optional(fields.apiKey);
  if (key !== undefined) body.apiKey = key;
  const balance = optional(fields.balance);
  if (balance !== undefined) body.balance = balance;
  const currency = optional(fields.currency);
  if (currency !== undefined) body.currency = currency;
  await request("PUT", path("accounts", fields.username), body);
  return `account ${fields.username.trim()} saved`;
}

async function dialIn(fields) {
  const call = await request("POST", "calls", { from: fields.from.trim(), to: fields.to.trim() });
  return `inbound call ${call.sessionId} started`;
}

async function reset() {
  if (!confirm("Reset the simulator? Live calls are cancelled and the journal is emptied.")) return;
  try {
    await request("POST", "reset");
    message("reset", false);
    await refreshControls();
  } catch (error) {
    message(error.message, true);
  }
}

async function remove(collection, key) {
  try {
    await request("DELETE", path(collection, key));
    message(`${key} removed`, false);
    await refreshControls();
  } catch (error) {
    message(error.message, true);
  }
}

// -- showing ------------------------------------------------------------------------------

export async function refreshControls() {
  const [numbers, callees, faults, accounts, queues] = await Promise.all([
    request("GET", "board/numbers"),
    request("GET", "callees"),
    request("GET", "event-faults"),
    request("GET", "accounts"),
    request("GET", "queues"),
  ]);
  showNumbers(numbers.numbers);
  showCallees(callees);
  showFaults(faults);
  showAccounts(accounts.accounts);
  showQueues(queues.queues);
  onNumbers(numbers.numbers);
}

function showNumbers(numbers) {
  const body = clear(byId("numbers"));
  for (const number of numbers) {
    body.append(el("tr", {},
      el("td", { text: number.phoneNumber }),
      el("td", { text: number.username }),
      el("td", { class: "wrap" }, el("div", { text: number.callbackUrl || "(no callback URL)" }), el("div", { class: "muted", text: number.eventsUrl || "(no events URL)" })),
      el("td", {}, el("button", { type: "button", class: "link", text: "remove", onclick: () => remove("numbers", number.phoneNumber) }))));
  }
}

function showCallees(callees) {
  const body = clear(byId("callees"));
  for (const callee of callees.callees) {
    body.append(el("tr", {},
      el("td", { text: callee.phoneNumber }),
      el("td", { text: callee.answer || "random" }),
      el("td", { text: callee.digits.map((d) => d || "''").join(", ") }),
      el("td", { text: callee.hangupAfter ?? "" }),
      el("td", { text: callee.speechSeconds ?? "" }),
      el("td", {}, el("button", { type: "button", class: "link", text: "remove", onclick: () => remove("callees", callee.phoneNumber) }))));
  }
  const fallback = callees.default;
  byId("default-callee").textContent = fallback
    ? `Other numbers: ${fallback.answer}, digits ${fallback.digits.join(", ") || "none"}`
    : "Other numbers behave at random (the seeded outcome distribution).";
}

function showFaults(faults) {
  const form = byId("faults-form");
  form.elements.delayProbability.value = faults.delayProbability;
  form.elements.delayLow.value = faults.delaySeconds[0];
  form.elements.delayHigh.value = faults.delaySeconds[1];
  form.elements.duplicateProbability.value = faults.duplicateProbability;
  form.elements.reorderProbability.value = faults.reorderProbability;
}

function showAccounts(accounts) {
  const body = clear(byId("accounts"));
  for (const account of accounts) {
    body.append(el("tr", {}, el("td", { text: account.username }), el("td", { text: `${account.currency} ${account.balance}` })));
  }
}

function showQueues(queues) {
  const list = clear(byId("queues"));
  if (!queues.length) list.append(el("li", { class: "muted", text: "no queue yet" }));
  for (const queue of queues) {
    list.append(el("li", { text: `${queue.phoneNumber} ${queue.queueName || "(default)"}: ${queue.numCalls} waiting` }));
  }
}
