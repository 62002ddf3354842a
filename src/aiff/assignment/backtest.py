"""Pure replay of historical tickets against a strategy, with simulated capacity (no I/O, no clocks but the
wall clock that measures the strategy calls).

Model: a team has `capacity` parallel slots. An assigned ticket holds a slot for travel (haversine km at
60 km/h) + its actual service duration, then completes and frees the slot. `greedy` and `nearest` decide
ticket by ticket on arrival; tickets they cannot place wait in a queue that is retried every
`batch_minutes` when capacity has freed. `optimal` decides in micro-batches: every `batch_minutes` it
solves all waiting tickets at once when tickets arrived or capacity freed since its last solve, and a
critical ticket triggers an immediate solve of the queue on arrival (its 4 h SLA should not wait for the
batch). Teams with status offline/on_leave never work.

KPIs per strategy: assigned / never assigned, total and mean travel km, SLA breaches by priority
(completion after the due date; a ticket never assigned counts as a breach), mean minutes from creation to
assignment, load balance (coefficient of variation of tickets per working team), share of cross-zone
assignments, decisions per second of strategy wall time.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from aiff.events.vocabulary import PRIORITIES

from .greedy import greedy_indices
from .model import TRAVEL_SPEED_KMH, Criteria, TeamSpec, TicketSpec, pair_distance_km, team_arrays, ticket_arrays
from .nearest import nearest_indices
from .optimal import solve_sparse

CRITICAL = PRIORITIES.index("critical")


@dataclass
class Kpis:
    strategy: str
    tickets: int
    assigned: int
    never_assigned: int
    total_km: float
    mean_km: float
    breaches: dict[str, int] = field(default_factory=dict)
    mean_minutes_to_assign: float = 0.0
    load_cv: float = 0.0
    cross_zone_share: float = 0.0
    decisions_per_second: float = 0.0
    strategy_seconds: float = 0.0
    team_of: np.ndarray | None = None  # per ticket (index into teams), -1 never assigned

    @property
    def total_breaches(self) -> int:
        return int(sum(self.breaches.values()))


def run_backtest(strategy_names: Sequence[str], tickets: Sequence[TicketSpec], teams: Sequence[TeamSpec],
                 service_minutes: Sequence[float] | np.ndarray, *, batch_minutes: float = 5.0,
                 criteria: Criteria = Criteria(), max_wait_hours: float = 24.0 * 7,
                 progress: Callable[[int], None] | None = None) -> dict[str, Kpis]:
    """KPIs per strategy; `progress(n)` is told each time n more tickets have arrived in a strategy's simulation."""
    order = sorted(range(len(tickets)), key=lambda k: (tickets[k].created_at, tickets[k].ticket_id))
    tickets = [tickets[k] for k in order]
    service = np.asarray(service_minutes, dtype=float)[order]
    start = tickets[0].created_at if tickets else None
    return {name: _run_one(name, tickets, teams, service, start, batch_minutes, criteria, max_wait_hours, progress)
            for name in strategy_names}


def _run_one(name, tickets, teams, service, start, batch_minutes, criteria, max_wait_hours, progress=None) -> Kpis:
    n = len(tickets)
    tk = ticket_arrays(tickets, start) if n else None
    tm = team_arrays(teams)
    tm.open_tickets[:] = np.minimum(tm.open_tickets, tm.capacity)
    arrive = -tk.created_h if n else np.zeros(0)  # hours since start
    due0 = tk.remaining_h.copy() if n else np.zeros(0)  # due, hours since start
    team_of = np.full(n, -1, dtype=np.int64)
    assign_t = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    done_t = np.full(n, np.nan)
    completions: list[tuple[float, int]] = []
    step = batch_minutes / 60.0
    wall = 0.0
    calls_decisions = 0
    queue: list[int] = []
    freed = True

    def release(t: float) -> bool:
        any_ = False
        while completions and completions[0][0] <= t:
            _, j = heapq.heappop(completions)
            tm.open_tickets[j] -= 1
            any_ = True
        return any_

    def decide(idx: list[int], t: float) -> np.ndarray:
        nonlocal wall, calls_decisions
        ix = np.asarray(idx, dtype=np.int64)
        sub = tk.take(ix)
        sub.remaining_h = due0[ix] - t
        t0 = time.perf_counter()
        if name == "greedy":
            res, _ = greedy_indices(sub, tm, criteria, open_tickets=tm.open_tickets)
        elif name == "nearest":
            res, _ = nearest_indices(sub, tm, criteria, open_tickets=tm.open_tickets)
        elif name == "optimal":
            sol = solve_sparse(sub, tm, criteria, certify=False)
            res = sol.team_of
            np.add.at(tm.open_tickets, res[res >= 0], 1)
        else:
            raise ValueError(f"unknown strategy {name!r}")
        wall += time.perf_counter() - t0
        calls_decisions += len(idx)
        hit = np.flatnonzero(res >= 0)
        gi, gj = ix[hit], res[hit]
        if gi.size:
            d = pair_distance_km(tk, tm, gi, gj)
            team_of[gi], assign_t[gi], dist[gi] = gj, t, d
            fin = t + d / TRAVEL_SPEED_KMH + service[gi] / 60.0
            done_t[gi] = fin
            for f, j in zip(fin.tolist(), gj.tolist()):
                heapq.heappush(completions, (f, j))
        return res

    k = reported = 0
    t = 0.0
    end = (arrive[-1] if n else 0.0) + max_wait_hours
    while k < n or (queue and t <= end):
        t_next = t + step
        if name == "optimal":
            arrived = False
            while k < n and arrive[k] < t_next:
                queue.append(k)
                if tk.prio[k] == CRITICAL:  # a critical arrival triggers an immediate solve of the queue
                    freed |= release(float(arrive[k]))
                    res = decide(queue, float(arrive[k]))
                    queue = [q for q, r in zip(queue, res.tolist()) if r < 0]
                    freed = False
                else:
                    arrived = True
                k += 1
            freed |= release(t_next)
            if queue and (freed or arrived):  # new tickets are solved in the next batch, capacity or not
                res = decide(queue, t_next)
                queue = [q for q, r in zip(queue, res.tolist()) if r < 0]
                freed = False
        else:
            while k < n and arrive[k] < t_next:
                freed |= release(arrive[k])
                res = decide([k], float(arrive[k]))
                if res[0] < 0:
                    queue.append(k)
                k += 1
            freed |= release(t_next)
            if queue and freed:
                res = decide(queue, t_next)
                queue = [q for q, r in zip(queue, res.tolist()) if r < 0]
                freed = False
        if progress is not None and k != reported:
            progress(k - reported)
            reported = k
        if k >= n and queue and not completions and not freed:
            break  # nothing will ever free: the rest stays unassigned
        t = t_next
    a = team_of >= 0
    breaches = {}
    for p_idx, p in enumerate(PRIORITIES):
        sel = tk.prio == p_idx if n else np.zeros(0, dtype=bool)
        late = sel & (~a | (done_t > due0 + 1e-9))
        breaches[p] = int(late.sum())
    working = np.flatnonzero(tm.working)
    per_team = np.bincount(team_of[a], minlength=len(tm))[working]
    cv = float(per_team.std() / per_team.mean()) if per_team.size and per_team.mean() > 0 else 0.0
    cross = float((tk.zone[a] != tm.zone[team_of[a]]).mean()) if a.any() else 0.0
    return Kpis(
        strategy=name, tickets=n, assigned=int(a.sum()), never_assigned=int((~a).sum()),
        total_km=float(np.nansum(dist)), mean_km=float(np.nanmean(dist)) if a.any() else 0.0,
        breaches=breaches,
        mean_minutes_to_assign=float(np.mean((assign_t[a] - arrive[a]) * 60.0)) if a.any() else 0.0,
        load_cv=cv, cross_zone_share=cross,
        decisions_per_second=calls_decisions / wall if wall > 0 else 0.0, strategy_seconds=wall, team_of=team_of,
    )


def kpi_rows(results: dict[str, Kpis]) -> list[tuple[str, list[str]]]:
    """(KPI label, one formatted cell per strategy), in display order."""
    rows = [
        ("tickets", lambda r: f"{r.tickets}"),
        ("assigned", lambda r: f"{r.assigned}"),
        ("never assigned", lambda r: f"{r.never_assigned}"),
        ("total travel km", lambda r: f"{r.total_km:,.0f}"),
        ("mean travel km", lambda r: f"{r.mean_km:.1f}"),
        *[(f"SLA breaches {p}", (lambda p: lambda r: f"{r.breaches.get(p, 0)}")(p)) for p in reversed(PRIORITIES)],
        ("SLA breaches total", lambda r: f"{r.total_breaches}"),
        ("mean min to assign", lambda r: f"{r.mean_minutes_to_assign:.1f}"),
        ("load CV", lambda r: f"{r.load_cv:.2f}"),
        ("cross-zone share", lambda r: f"{100 * r.cross_zone_share:.1f}%"),
        ("decisions / s", lambda r: f"{r.decisions_per_second:,.0f}"),
    ]
    return [(label, [f(r) for r in results.values()]) for label, f in rows]


def format_table(results: dict[str, Kpis]) -> str:
    names = list(results)
    rows = kpi_rows(results)
    w0 = max(len(r[0]) for r in rows)
    w = max(12, *(len(s) for s in names))
    lines = [" " * w0 + "  " + "  ".join(s.rjust(w) for s in names)]
    for label, cells in rows:
        lines.append(label.ljust(w0) + "  " + "  ".join(c.rjust(w) for c in cells))
    return "\n".join(lines)
