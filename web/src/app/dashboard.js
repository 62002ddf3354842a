// Dispatcher dashboard: overview (KPIs, live charts, zones, top performers), tickets, teams, planning, map, assistant.
import { $, $$, el, fmt, api, optional, login, session, Live, kpiCards, assistant, toast } from "./common.js";

const ZONES = ["Johor","Kedah","Kelantan","Kuala Lumpur","Labuan","Melaka","Negeri Sembilan","Pahang","Perak","Perlis","Pulau Pinang","Sabah","Sarawak","Selangor","Terengganu"];
const state = { page: 1, pages: 1, filters: {}, tickets: new Map(), selected: new Set(), kpis: null, teams: [], live: null, rate: [], map: null };
window.aiff = state; // for debugging and tests

function show(view) {
  $$("header nav button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
  $$("section.view").forEach((s) => s.classList.toggle("active", s.id === `view-${view}`));
  if (view === "map") setTimeout(() => state.map?.invalidateSize(), 50);
  if (view === "teams") loadTeams();
}

async function start() {
  if (!session.token) { $("#login").classList.remove("hidden"); return; }
  $("#login").classList.add("hidden"); $("#app").classList.remove("hidden");
  $$(".zone-select").forEach((s) => ZONES.forEach((z) => s.append(el("option", {}, z))));
  $$("header nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));
  $("#logout").onclick = () => { session.clear(); state.live?.close(); location.reload(); };
  initCharts(); initMap(); assistant($("#chat"), { onTicket: (id) => { show("tickets"); openTicket(id); } }); bindTickets(); bindPlanning();
  state.live = new Live({}, {
    status: (s) => { const d = $("[data-testid=live-status]"); d.textContent = s; d.classList.toggle("live", s === "live"); },
    snapshot: (m) => { applyKpis(m.kpis); if (m.reason) { loadTickets(); loadMapTickets(); } },
    resync: () => toast("Live feed resynchronised"),
    kpis: (m) => applyKpis(m.kpis),
    events: (m) => onEvents(m.events),
  });
  await Promise.all([loadTickets(), loadOverview(), loadMapTickets()]);
}

// ---- overview ----------------------------------------------------------------------------------
function applyKpis(k) {
  state.kpis = k; kpiCards($("#kpis"), k);
  const z = ZONES.map((n) => (k.by_zone?.[n]?.open || 0) + (k.by_zone?.[n]?.active || 0));
  state.zoneChart.data.datasets[0].data = z; state.zoneChart.update("none");
  shadeMap();
}
function initCharts() {
  state.rateChart = new Chart($("#chart-rate"), { type: "line", data: { labels: [], datasets: [{ label: "events/s", data: [], tension: 0.3, fill: true }] }, options: { animation: false, scales: { y: { beginAtZero: true } } } });
  state.zoneChart = new Chart($("#chart-zones"), { type: "bar", data: { labels: ZONES, datasets: [{ label: "backlog (open + active)", data: ZONES.map(() => 0) }] }, options: { animation: false, indexAxis: "y" } });
  let count = 0; state.countEvent = (n) => (count += n);
  setInterval(() => {
    const c = state.rateChart; c.data.labels.push(new Date().toLocaleTimeString()); c.data.datasets[0].data.push(count); count = 0;
    if (c.data.labels.length > 60) { c.data.labels.shift(); c.data.datasets[0].data.shift(); }
    c.update("none");
  }, 1000);
}
async function loadOverview() {
  const [zones, perf] = await Promise.all([optional("GET", "/auth/teams/analytics/zones"), optional("GET", "/auth/teams/analytics/performance")]);
  if (zones) $("[data-testid=zone-performance] tbody").replaceChildren(...zones.map((z) =>
    el("tr", {}, el("td", {}, z.zone), el("td", {}, `${z.available_teams}/${z.teams}`), el("td", {}, z.open_tickets), el("td", {}, fmt(z.avg_customer_rating, 2)), el("td", {}, `${fmt(z.avg_efficiency)}%`))));
  if (perf) $("[data-testid=top-performers] tbody").replaceChildren(...perf.slice(0, 8).map((t) =>
    el("tr", {}, el("td", {}, t.name), el("td", {}, t.zone), el("td", {}, t.tickets_completed), el("td", {}, fmt(t.customer_rating, 2)), el("td", {}, `${fmt(t.efficiency)}%`))));
}

// ---- tickets -----------------------------------------------------------------------------------
function ticketRow(t) {
  const cb = el("input", { type: "checkbox", testid: `select-${t.id}` });
  cb.checked = state.selected.has(t.id);
  cb.onchange = () => (cb.checked ? state.selected.add(t.id) : state.selected.delete(t.id));
  const tr = el("tr", { testid: `ticket-row-${t.id}`, "data-status": t.status, onclick: (e) => { if (e.target !== cb) openTicket(t.id); } },
    el("td", {}, cb), el("td", {}, t.ticket_number || t.id), el("td", {}, t.title), el("td", {}, t.zone),
    el("td", {}, el("span", { class: `badge ${t.priority}` }, t.priority)), el("td", {}, el("span", { class: `badge ${t.status}`, testid: `status-${t.id}` }, t.status)),
    el("td", { class: "hide-sm" }, t.assigned_team ?? t.team_id ?? "—"), el("td", { class: "hide-sm" }, t.due_date ? new Date(t.due_date).toLocaleString() : "—"));
  return tr;
}
async function loadTickets() {
  const q = new URLSearchParams({ page: state.page, limit: 20, ...Object.fromEntries(Object.entries(state.filters).filter(([, v]) => v)) });
  const r = await api("GET", `/tickets?${q}`);
  state.pages = Math.max(r.pages, 1);
  $("#ticket-rows").replaceChildren(...r.items.map(ticketRow));
  $("#page-info").textContent = `page ${r.page} of ${state.pages} · ${r.total} tickets`;
}
function matchesFilters(e) {
  const f = state.filters;
  return (!f.status || f.status === e.status) && (!f.priority || f.priority === e.priority) && (!f.zone || f.zone === e.zone) && !f.q;
}
function onEvents(events) {
  state.countEvent(events.length);
  for (const e of events) {
    if (e.kind === "team") { updateTeamMarker(e); continue; }
    const row = $(`[data-testid="ticket-row-${e.ticket_id}"]`);
    const t = { id: e.ticket_id, ticket_number: e.ticket_number, title: e.title, zone: e.zone, priority: e.priority, status: e.status, assigned_team: e.team_id, due_date: e.due_date };
    if (e.deleted) row?.remove();
    else if (row) { const nr = ticketRow(t); nr.classList.add("flash"); row.replaceWith(nr); }
    else if (state.page === 1 && matchesFilters(e) && e.types.some((x) => x.includes("created"))) {
      const nr = ticketRow(t); nr.classList.add("flash"); $("#ticket-rows").prepend(nr);
      while ($("#ticket-rows").children.length > 20) $("#ticket-rows").lastElementChild.remove();
    }
    updateTicketMarker(e);
    if (state.openTicket === e.ticket_id) openTicket(e.ticket_id);
  }
}
async function openTicket(id) {
  state.openTicket = id;
  const box = $("#ticket-detail");
  let t, hist;
  try { [t, hist] = await Promise.all([api("GET", `/tickets/${id}`), optional("GET", `/tickets/${id}/history`)]); } catch (e) { box.textContent = e.message; return; }
  const a = t.assignment;
  const teamSel = el("select", { testid: "assign-team" }, ...state.teams.filter((x) => x.is_active).sort((x, y) => (x.zone === t.zone ? -1 : 1) - (y.zone === t.zone ? -1 : 1)).map((x) => el("option", { value: x.id }, `${x.id} · ${x.name} (${x.zone})`)));
  const statusSel = el("select", { testid: "status-select" }, ...["in_progress", "completed", "closed", "cancelled", "reopened"].map((s) => el("option", {}, s)));
  const prioSel = el("select", { testid: "priority-select" }, ...["critical", "high", "medium", "low"].map((p) => el("option", p === t.priority ? { selected: "" } : {}, p)));
  box.replaceChildren(
    el("h2", {}, `${t.ticket_number} — ${t.title}`),
    el("dl", { class: "detail" }, el("dt", {}, "Status"), el("dd", { testid: "detail-status" }, t.status), el("dt", {}, "Zone / location"), el("dd", {}, `${t.zone} · ${t.location || "—"}`),
      el("dt", {}, "Team"), el("dd", { testid: "detail-team" }, t.assigned_team ?? "—"),
      el("dt", {}, "Why this team"), el("dd", { testid: "detail-explanation" }, a ? `${a.strategy} by ${a.assigned_by}; score ${fmt(a.score, 3)}; ${fmt(a.distance_km)} km; ` + Object.entries(a.breakdown || {}).map(([k, v]) => `${k}: ${fmt(v, 3)}`).join(", ") : "not assigned")),
    el("form", { class: "inline", testid: "assign-form", onsubmit: async (e) => { e.preventDefault();
      try { await api("POST", "/tickets/assign", { ticket_id: id, team_id: Number(teamSel.value), reason: "dispatcher" }); toast("Assigned"); openTicket(id); } catch (err) { toast(err.message, "error"); } } },
      teamSel, el("button", { class: "primary", type: "submit", testid: "assign-submit" }, "Assign")),
    el("form", { class: "inline", onsubmit: async (e) => { e.preventDefault();
      try { await api("POST", `/tickets/${id}/status`, { status: statusSel.value }); toast("Status changed"); openTicket(id); } catch (err) { toast(err.message, "error"); } } },
      statusSel, el("button", { type: "submit", testid: "status-submit" }, "Change status")),
    el("form", { class: "inline", onsubmit: async (e) => { e.preventDefault();
      try { await api("PUT", `/tickets/${id}`, { priority: prioSel.value }); toast("Priority changed"); openTicket(id); } catch (err) { toast(err.message, "error"); } } },
      prioSel, el("button", { type: "submit", testid: "priority-submit" }, "Set priority")),
    el("h2", {}, "History"),
    el("table", { testid: "ticket-history" }, el("tbody", {}, ...(hist || []).map((h) => el("tr", {}, el("td", {}, new Date(h.time).toLocaleString()), el("td", {}, h.type), el("td", {}, h.source || ""))))),
  );
}
function bindTickets() {
  $("#ticket-filters").onsubmit = (e) => { e.preventDefault(); state.filters = Object.fromEntries(new FormData(e.target)); state.page = 1; loadTickets(); };
  $("#prev").onclick = () => { if (state.page > 1) { state.page--; loadTickets(); } };
  $("#next").onclick = () => { if (state.page < state.pages) { state.page++; loadTickets(); } };
  $("#new-ticket-toggle").onclick = () => $("#new-ticket").classList.toggle("hidden");
  $("#new-ticket").onsubmit = async (e) => {
    e.preventDefault();
    const body = Object.fromEntries([...new FormData(e.target)].filter(([, v]) => v !== ""));
    for (const k of ["latitude", "longitude"]) if (body[k] !== undefined) body[k] = Number(body[k]);
    try { const t = await api("POST", "/tickets", body); toast(`Created ${t.ticket_number}`); e.target.reset(); } catch (err) { toast(err.message, "error"); }
  };
  $("#auto-assign").onclick = async () => {
    if (!state.selected.size) return toast("Select tickets first");
    try { await api("POST", "/tickets/auto-assign", { ticket_ids: [...state.selected] }); toast(`Auto-assign requested for ${state.selected.size}`); state.selected.clear(); } catch (err) { toast(err.message, "error"); }
  };
}

// ---- teams -------------------------------------------------------------------------------------
async function loadTeams() {
  const [perf, zones] = await Promise.all([optional("GET", "/auth/teams/analytics/performance"), optional("GET", "/auth/teams/analytics/zones")]);
  if (perf) $("[data-testid=team-table] tbody").replaceChildren(...perf.map((t) => el("tr", { testid: `team-row-${t.id}` },
    el("td", {}, t.name), el("td", {}, t.zone), el("td", {}, t.status), el("td", {}, `${t.open_tickets}/${t.capacity}`), el("td", {}, t.tickets_completed),
    el("td", {}, fmt(t.customer_rating, 2)), el("td", {}, `${t.response_time} min`), el("td", {}, `${fmt(t.efficiency)}%`))));
  if (zones) {
    state.teamZoneChart?.destroy();
    state.teamZoneChart = new Chart($("#chart-team-zones"), { type: "bar", data: { labels: zones.map((z) => z.zone), datasets: [
      { label: "teams", data: zones.map((z) => z.teams) }, { label: "capacity", data: zones.map((z) => z.capacity) }, { label: "open tickets", data: zones.map((z) => z.open_tickets) }] }, options: { animation: false } });
  }
}

// ---- planning ----------------------------------------------------------------------------------
function bindPlanning() {
  $("#predict-form").onsubmit = async (e) => {
    e.preventDefault();
    const horizon = Number(new FormData(e.target).get("horizon"));
    const out = $("#predict-out");
    try {
      const [p, zones] = await Promise.all([optional("POST", "/ai/predict", { prediction_type: "ticket_volume", data: { horizon } }), optional("GET", "/auth/teams/analytics/zones")]);
      if (!p) { out.textContent = "Forecasting is not available yet (the AI service answered 404)."; return; }
      const cap = Object.fromEntries((zones || []).map((z) => [z.zone, z.capacity]));
      out.replaceChildren(el("table", { testid: "forecast-table" }, el("thead", {}, el("tr", {}, ...["Zone", `Next ${horizon} d`, "80% interval", "Daily mean", "Capacity", "Demand/capacity"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...p.zones.map((z) => el("tr", {}, el("td", {}, z.zone), el("td", {}, fmt(z.total, 0)), el("td", {}, `${fmt(z.total_lower, 0)}–${fmt(z.total_upper, 0)}`),
          el("td", {}, fmt(z.recent_daily_mean)), el("td", {}, cap[z.zone] ?? "—"), el("td", {}, cap[z.zone] ? fmt(z.total / horizon / cap[z.zone], 2) : "—"))))));
      state.forecastChart?.destroy();
      state.forecastChart = new Chart($("#chart-forecast"), { type: "bar", data: { labels: p.zones.map((z) => z.zone), datasets: [
        { label: "forecast", data: p.zones.map((z) => z.total) }, { label: "upper", data: p.zones.map((z) => z.total_upper) }, { label: `capacity × ${horizon} d`, data: p.zones.map((z) => (cap[z.zone] || 0) * horizon) }] }, options: { animation: false } });
    } catch (err) { out.textContent = err.message; }
  };
}

// ---- map ---------------------------------------------------------------------------------------
const markers = new Map(); const teamMarkers = new Map();
function initMap() {
  const map = (state.map = L.map("map", { zoomControl: true, attributionControl: false }).setView([4.2, 108.5], 6));
  fetch("/static/vendor/malaysia-states.geojson").then((r) => r.json()).then((geo) => {
    state.states = L.geoJSON(geo, { style: () => ({ color: "#41556b", weight: 1, fillColor: "#e8eef5", fillOpacity: 0.8 }),
      onEachFeature: (f, layer) => layer.bindTooltip(() => { const z = state.kpis?.by_zone?.[f.properties.zone] || {}; return `${f.properties.name}: ${z.open || 0} open, ${z.active || 0} active, ${z.overdue || 0} overdue`; }) }).addTo(map);
    state.states.eachLayer((l) => l.getElement()?.setAttribute("data-testid", `map-zone-${l.feature.properties.name}`));
    shadeMap();
  });
  $("#map-shade").onchange = shadeMap;
  optional("GET", "/auth/teams").then((teams) => { state.teams = teams || []; state.teams.forEach((t) => updateTeamMarker({ team_id: t.id, name: t.name, lat: t.latitude, lon: t.longitude, status: t.status, zone: t.zone })); });
}
function shadeMap() {
  if (!state.states || !state.kpis) return;
  const by = $("#map-shade").value;
  state.states.eachLayer((l) => {
    const z = state.kpis.by_zone?.[l.feature.properties.zone] || {};
    const v = by === "open" ? (z.open || 0) + (z.active || 0) : (z.overdue || 0) + (z.at_risk || 0);
    const max = Math.max(1, ...Object.values(state.kpis.by_zone || {}).map((x) => by === "open" ? x.open + x.active : x.overdue + x.at_risk));
    const a = v / max;
    l.setStyle({ fillColor: by === "open" ? `rgba(11,107,203,${0.1 + 0.8 * a})` : `rgba(194,58,58,${0.1 + 0.8 * a})` });
  });
}
const COLORS = { open: "#c23a3a", reopened: "#c23a3a", assigned: "#0b6bcb", in_progress: "#d98b00" };
function updateTicketMarker(e) {
  const id = e.ticket_id ?? e.id; const old = markers.get(id);
  const active = COLORS[e.status];
  if (!active || e.deleted || e.lat == null) { if (old) { old.remove(); markers.delete(id); } return; }
  if (old) { old.setLatLng([e.lat, e.lon]); old.setStyle({ color: active, fillColor: active }); old.getElement()?.setAttribute("data-status", e.status); return; }
  const m = L.circleMarker([e.lat, e.lon], { radius: 5, color: active, fillColor: active, fillOpacity: 0.8, weight: 1 }).bindTooltip(`${e.ticket_number || id}: ${e.title || ""} (${e.status})`).addTo(state.map);
  m.getElement()?.setAttribute("data-testid", `map-ticket-${id}`); m.getElement()?.setAttribute("data-status", e.status);
  markers.set(id, m);
}
function updateTeamMarker(t) {
  if (t.lat == null) return;
  const old = teamMarkers.get(t.team_id); if (old) { old.setLatLng([t.lat, t.lon]); return; }
  const m = L.marker([t.lat, t.lon], { icon: L.divIcon({ className: "", html: `<div data-testid="map-team-${t.team_id}" style="width:9px;height:9px;background:#12263f;border:1px solid #fff"></div>`, iconSize: [9, 9] }) })
    .bindTooltip(`${t.name} (${t.zone}, ${t.status})`).addTo(state.map);
  teamMarkers.set(t.team_id, m);
}
async function loadMapTickets() {
  for (const status of ["open", "assigned", "in_progress"]) {
    const r = await api("GET", `/tickets?status=${status}&limit=100`);
    r.items.forEach((t) => updateTicketMarker({ ticket_id: t.id, ticket_number: t.ticket_number, title: t.title, status: t.status, lat: t.latitude, lon: t.longitude }));
  }
}

// ---- login -------------------------------------------------------------------------------------
$("[data-testid=login-form]").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try { await login(f.get("username"), f.get("password")); start(); } catch (err) { $("[data-testid=login-error]").textContent = err.message; }
});
start();
