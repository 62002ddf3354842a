// Field portal: the team's dashboard and zone, assigned tickets (start, update, complete with a report), performance, assistant.
import { $, $$, el, fmt, api, optional, login, session, Live, assistant, toast } from "./common.js";

const state = { team: null, tickets: new Map() };
window.aiffField = state;

function show(view) {
  $$("header nav button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
  $$("section.view").forEach((s) => s.classList.toggle("active", s.id === `view-${view}`));
  if (view === "perf") loadPerformance();
}

async function start() {
  const user = session.user;
  if (!session.token || !user) { $("#login").classList.remove("hidden"); return; }
  $("#login").classList.add("hidden"); $("#app").classList.remove("hidden");
  $$("header nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));
  $("#logout").onclick = () => { session.clear(); location.reload(); };
  assistant($("#chat"));
  if (!user.team_id) { $("[data-testid=team-info]").textContent = "Your account is not attached to a team; ask an admin."; return; }
  state.team = await api("GET", `/auth/teams/${user.team_id}`);
  renderTeam();
  await loadTickets();
  new Live({ team: user.team_id }, {
    status: (s) => { const d = $("[data-testid=live-status]"); d.textContent = s; d.classList.toggle("live", s === "live"); },
    events: (m) => { for (const e of m.events) if (e.kind === "ticket") onTicket(e); else if (e.team_id === user.team_id) refreshTeam(); },
    snapshot: (m) => { if (m.reason) loadTickets(); },
  });
}
async function refreshTeam() { state.team = await api("GET", `/auth/teams/${state.team.id}`); renderTeam(); }
async function renderTeam() {
  const t = state.team;
  $("[data-testid=team-info]").replaceChildren(el("h2", { testid: "team-name" }, t.name), el("div", {}, `${t.zone} · base ${t.base_town || "—"} · ${t.status}`),
    el("div", { class: "muted" }, `Members: ${(t.members || []).join(", ") || "—"} · skills ${(t.skills || []).join(", ")}`));
  const cards = [["open", "Open tickets", `${t.open_tickets}/${t.capacity}`], ["done", "Completed", t.tickets_completed], ["rating", "Rating", fmt(t.customer_rating, 2)],
    ["response", "Response", `${t.response_time} min`], ["efficiency", "Within SLA", `${fmt(t.efficiency)}%`]];
  $("[data-testid=team-kpis]").replaceChildren(...cards.map(([k, l, v]) => el("div", { class: "card kpi", testid: `team-kpi-${k}` }, el("div", { class: "kpi-label" }, l), el("div", { class: "kpi-value" }, v))));
  const zones = await optional("GET", "/auth/teams/analytics/zones");
  const z = (zones || []).find((x) => x.zone === t.zone);
  if (z) $("[data-testid=zone-info]").replaceChildren(el("h2", {}, `Zone ${z.zone} (${z.region})`), el("div", { testid: "zone-summary" }, `${z.open_tickets} open tickets · ${z.available_teams}/${z.teams} teams available · capacity ${z.capacity} · mode ${z.assignment_mode}`));
}
async function loadTickets() {
  const r = await api("GET", `/tickets?assigned_team=${state.team.id}&limit=100`);
  state.tickets = new Map(r.items.map((t) => [t.id, t]));
  render();
}
function onTicket(e) {
  if (e.deleted || e.team_id !== state.team.id) state.tickets.delete(e.ticket_id);
  else state.tickets.set(e.ticket_id, { ...(state.tickets.get(e.ticket_id) || {}), id: e.ticket_id, ticket_number: e.ticket_number, title: e.title, status: e.status, priority: e.priority, zone: e.zone, location: e.location, due_date: e.due_date });
  render(); refreshTeam();
}
async function change(id, body) {
  try { await api("POST", `/tickets/${id}/status`, body); toast(`Ticket ${body.status.replace("_", " ")}`); } catch (err) { toast(err.message, "error"); }
}
function render() {
  const order = { in_progress: 0, assigned: 1 };
  const list = [...state.tickets.values()].filter((t) => ["assigned", "in_progress"].includes(t.status)).sort((a, b) => (order[a.status] ?? 9) - (order[b.status] ?? 9));
  const done = [...state.tickets.values()].filter((t) => ["completed", "closed"].includes(t.status));
  $("#my-tickets").replaceChildren(
    el("h2", {}, `Active (${list.length})`),
    ...list.map((t) => {
      const notes = el("textarea", { rows: 2, placeholder: "notes / completion report", testid: `notes-${t.id}` });
      const rating = el("select", { testid: `rating-${t.id}` }, ...[5, 4, 3, 2, 1].map((n) => el("option", { value: n }, `${n}★`)));
      return el("div", { class: "ticket-card", testid: `field-ticket-${t.id}`, "data-status": t.status },
        el("div", {}, el("b", {}, t.ticket_number), " ", el("span", { class: `badge ${t.priority}` }, t.priority), " ", el("span", { class: `badge ${t.status}`, testid: `field-status-${t.id}` }, t.status)),
        el("div", {}, t.title), el("div", { class: "muted" }, `${t.location || ""} ${t.zone || ""} · due ${t.due_date ? new Date(t.due_date).toLocaleString() : "—"}`),
        el("div", { class: "actions" },
          t.status === "assigned" ? el("button", { class: "primary", testid: `start-${t.id}`, onclick: () => change(t.id, { status: "in_progress", notes: notes.value || undefined }) }, "Start work") : null,
          t.status === "in_progress" ? [notes, rating,
            el("button", { testid: `update-${t.id}`, onclick: async () => { try { await api("PUT", `/tickets/${t.id}`, { description: notes.value || t.title }); toast("Updated"); } catch (err) { toast(err.message, "error"); } } }, "Update"),
            el("button", { class: "primary", testid: `complete-${t.id}`, onclick: () => change(t.id, { status: "completed", notes: notes.value || "completed", customer_rating: Number(rating.value) }) }, "Complete")] : null));
    }),
    el("h2", {}, `Completed (${done.length})`),
    ...done.map((t) => el("div", { class: "ticket-card", testid: `field-done-${t.id}` }, `${t.ticket_number} — ${t.title}`)),
  );
}
async function loadPerformance() {
  const [perf, zones] = await Promise.all([optional("GET", `/auth/teams/analytics/performance?zone=${encodeURIComponent(state.team.zone)}`), optional("GET", "/auth/teams/analytics/zones")]);
  if (perf) $("[data-testid=team-comparison] tbody").replaceChildren(...perf.filter((t) => t.zone === state.team.zone).map((t) =>
    el("tr", { class: t.id === state.team.id ? "flash" : "" }, el("td", {}, t.id === state.team.id ? `▶ ${t.name}` : t.name), el("td", {}, t.tickets_completed), el("td", {}, fmt(t.customer_rating, 2)), el("td", {}, `${fmt(t.efficiency)}%`))));
  if (zones) $("[data-testid=zone-performance] tbody").replaceChildren(...zones.map((z) =>
    el("tr", {}, el("td", {}, z.zone), el("td", {}, z.open_tickets), el("td", {}, fmt(z.avg_customer_rating, 2)), el("td", {}, `${fmt(z.avg_efficiency)}%`))));
}
$("[data-testid=login-form]").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try { await login(f.get("username"), f.get("password")); start(); } catch (err) { $("[data-testid=login-error]").textContent = err.message; }
});
start();
