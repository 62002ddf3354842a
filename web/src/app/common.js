// Shared by the dashboard and the field portal: API calls, the live websocket, small DOM helpers.
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "testid") e.dataset.testid = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
export const fmt = (v, digits = 1) => (v === null || v === undefined ? "—" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : String(v));

const TOKEN_KEY = "aiff.token";
export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  get user() { try { return JSON.parse(sessionStorage.getItem(TOKEN_KEY + ".user")); } catch { return null; } },
  save(token, user) { sessionStorage.setItem(TOKEN_KEY, token); sessionStorage.setItem(TOKEN_KEY + ".user", JSON.stringify(user)); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(TOKEN_KEY + ".user"); },
};

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
export async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!r.ok) {
    const msg = (data && data.error && data.error.message) || (data && data.detail) || r.statusText;
    if (r.status === 401) session.clear();
    throw new ApiError(r.status, typeof msg === "string" ? msg : JSON.stringify(msg));
  }
  return data;
}
/** Calls an endpoint another team may not have built yet: resolves to null on 404/405/501. */
export async function optional(method, path, body) {
  try { return await api(method, path, body); } catch (e) { if ([404, 405, 501].includes(e.status)) return null; throw e; }
}

export async function login(username, password) {
  const r = await api("POST", "/auth/login", { username, password });
  session.save(r.access_token, r.user);
  return r.user;
}

/** The live feed: reconnects with ?since=<last seq>, calls handlers by message type. */
export class Live {
  constructor(params, handlers) {
    this.params = params; this.handlers = handlers; this.seq = null; this.closed = false; this.backoff = 500;
    this.connect();
  }
  connect() {
    const q = new URLSearchParams({ token: session.token || "", ...this.params });
    if (this.seq !== null) q.set("since", this.seq);
    const proto = location.protocol === "https:" ? "wss" : "ws";
    this.ws = new WebSocket(`${proto}://${location.host}/ws?${q}`);
    this.ws.onopen = () => { this.backoff = 500; this.handlers.status?.("live"); };
    this.ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (typeof msg.seq === "number" && msg.type !== "kpis") this.seq = msg.seq;
      this.handlers[msg.type]?.(msg);
    };
    this.ws.onclose = () => {
      this.handlers.status?.("reconnecting");
      if (!this.closed) setTimeout(() => this.connect(), (this.backoff = Math.min(this.backoff * 2, 10000)));
    };
  }
  close() { this.closed = true; this.ws?.close(); }
}

export function kpiCards(root, kpis) {
  const cards = [
    ["open", "Open", kpis.open], ["assigned", "Assigned", kpis.assigned], ["in_progress", "In progress", kpis.in_progress],
    ["completed_today", "Completed today", kpis.completed_today],
    ["sla_compliance_pct", "SLA compliance", kpis.sla_compliance_pct === null ? "—" : `${fmt(kpis.sla_compliance_pct)}%`],
    ["mean_response_min", "Mean response", kpis.mean_response_min === null ? "—" : `${fmt(kpis.mean_response_min)} min`],
  ];
  root.replaceChildren(...cards.map(([k, label, v]) =>
    el("div", { class: "card kpi", testid: `kpi-${k}` }, el("div", { class: "kpi-label" }, label), el("div", { class: "kpi-value", testid: `kpi-${k}-value` }, fmt(v)))));
}

// NRO-Bots chat: keeps the conversation id (follow-ups), shows each answer's data (a small table, the ticket and team
// ids it used), suggestions that fit the question, and Confirm / Cancel for a proposed action.
export function assistant(root, { onTicket } = {}) {
  const log = el("div", { class: "chat-log", testid: "chat-log" });
  const input = el("input", { type: "text", placeholder: "Ask NRO-Bots… e.g. which zone has the largest backlog?", testid: "chat-input" });
  let conversation = null, turn = 0;
  const send = async (text) => {
    text = (text || "").trim(); if (!text) return;
    log.append(el("div", { class: "msg me" }, text));
    try {
      const body = { message: text, context: conversation ? { conversation_id: conversation } : {} };
      const r = await optional("POST", "/ai/chat", body);
      if (r === null) { log.append(el("div", { class: "msg bot", testid: "chat-answer" }, "The assistant is not available yet.")); return; }
      conversation = r.context?.conversation_id || conversation;
      turn += 1;
      log.append(answerView(r, turn, send, onTicket));
    } catch (err) { log.append(el("div", { class: "msg bot error" }, err.message)); }
    log.scrollTop = log.scrollHeight;
  };
  const form = el("form", { class: "chat-form", testid: "chat-form", onsubmit: async (e) => {
    e.preventDefault();
    const text = input.value; input.value = "";
    await send(text);
  } }, input, el("button", { type: "submit" }, "Send"));
  root.replaceChildren(log, form);
}

function answerView(r, turn, send, onTicket) {
  const answer = r.response || r.answer || r.message || JSON.stringify(r);
  const box = el("div", { class: "msg bot", testid: "chat-answer", "data-turn": turn, "data-intent": r.intent || "" }, el("div", {}, answer));
  const t = r.table;
  if (t && t.columns && t.rows && t.rows.length) {
    box.append(el("table", { class: "chat-table", testid: "chat-table" },
      el("thead", {}, el("tr", {}, t.columns.map((c) => el("th", {}, c.replace(/_/g, " "))))),
      el("tbody", {}, t.rows.slice(0, 15).map((row) => el("tr", {}, row.map((v) => el("td", {}, fmt(v))))))));
  }
  const ids = r.ids || {};
  const chips = [
    ...(ids.tickets || []).slice(0, 12).map((id) => el("button", { type: "button", class: "chip", testid: `chat-ticket-${id}`, onclick: () => (onTicket ? onTicket(id) : send(`show ticket ${id}`)) }, `#${id}`)),
    ...(ids.teams || []).slice(0, 8).map((id) => el("button", { type: "button", class: "chip team", testid: `chat-team-${id}`, onclick: () => send(`what is team ${id} doing today?`) }, `team ${id}`)),
  ];
  if (chips.length) box.append(el("div", { class: "chips", testid: "chat-ids" }, chips));
  if (r.proposed_action) {
    box.append(el("div", { class: "chips", testid: "chat-confirm" },
      el("button", { type: "button", class: "primary", testid: "chat-confirm-yes", onclick: () => send("yes") }, "Confirm"),
      el("button", { type: "button", testid: "chat-confirm-no", onclick: () => send("no") }, "Cancel")));
  }
  if (r.suggestions?.length) {
    box.append(el("div", { class: "chips suggestions", testid: "chat-suggestions" },
      r.suggestions.slice(0, 3).map((q) => el("button", { type: "button", class: "chip", onclick: () => send(q) }, q))));
  }
  return box;
}

export function toast(text, kind = "info") {
  const t = el("div", { class: `toast ${kind}`, testid: "toast" }, text);
  document.body.append(t);
  setTimeout(() => t.remove(), 4000);
}
