"""The seeds' baseline (`AssignmentAlgorithm.auto_assign_ticket`), reproduced exactly.

score = 0.4 * (ticket.zone == team.zone) + 0.3 * (team.status == "available")
        + 0.2 * (1 - team.tickets_completed / 100) + 0.1 * (team.customer_rating / 5)

Candidates are the seeds' `get_available_teams(ticket.zone)`: teams of the ticket's zone whose status is
``available``. Our additions, so the baseline never breaks a hard rule: a candidate must also have free
capacity (capacity - open_tickets > 0) and, when `Criteria.respect_skills`, the ticket's skill (and lie
within `Criteria.max_distance_km` when one is given). Tickets are taken one by one in the given order; the
best score wins (ties: first team in the given order, like the seeds' stable sort), and the chosen team's
load is updated before the next ticket. It ignores distance, so it is weak.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Sequence

import numpy as np

from .model import Criteria, Decision, Plan, TeamArrays, TeamSpec, TicketArrays, TicketSpec, pair_distance_km, team_arrays, ticket_arrays
from aiff.events.vocabulary import SKILLS


def calculate_assignment_score(ticket: Any, team: Any) -> float:
    """The seeds' formula, verbatim (any objects with .zone, .status, .tickets_completed, .customer_rating)."""
    score = 0.0
    # Zone match (40% weight)
    if ticket.zone == team.zone:
        score += 0.4
    # Team availability (30% weight)
    if team.status == "available":
        score += 0.3
    # Workload balance (20% weight)
    workload_score = 1.0 - (team.tickets_completed / 100.0)
    score += workload_score * 0.2
    # Performance rating (10% weight)
    performance_score = team.customer_rating / 5.0
    score += performance_score * 0.1
    return score


def greedy_indices(tk: TicketArrays, tm: TeamArrays, criteria: Criteria, order: np.ndarray | None = None,
                   open_tickets: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Team index per ticket (-1 none) and a reason per ticket; updates `open_tickets` in place if given."""
    n = len(tk)
    load = tm.open_tickets.copy() if open_tickets is None else open_tickets
    team_of = np.full(n, -1, dtype=np.int64)
    reasons = [""] * n
    # zone match is always 1 for candidates (same zone) and availability always 1 (status available)
    base = 0.4 + 0.3 + (1.0 - tm.tickets_completed / 100.0) * 0.2 + (tm.rating / 5.0) * 0.1
    for i in (range(n) if order is None else order):
        ok = (tm.zone == tk.zone[i]) & tm.available & (load < tm.capacity)
        s = tk.skill[i]
        if criteria.respect_skills and s >= 0:
            ok &= tm.skills[:, s]
        if criteria.max_distance_km is not None:
            ok &= pair_distance_km(tk, tm, np.full(len(tm), i), np.arange(len(tm))) <= criteria.max_distance_km
        cand = np.flatnonzero(ok)
        if cand.size == 0:
            if criteria.respect_skills and s >= 0 and not (tm.skills[:, s] & (tm.zone == tk.zone[i]) & tm.available).any():
                reasons[i] = f"no available team with skill {SKILLS[s]} in the ticket's zone"
            else:
                reasons[i] = "no available team with free capacity in the ticket's zone"
            continue
        j = int(cand[np.argmax(base[cand])])
        team_of[i] = j
        load[j] += 1
    return team_of, reasons


def greedy(tickets: Sequence[TicketSpec], teams: Sequence[TeamSpec], criteria: Criteria, now: datetime) -> Plan:
    t0 = time.perf_counter()
    tk, tm = ticket_arrays(tickets, now), team_arrays(teams)
    team_of, reasons = greedy_indices(tk, tm, criteria)
    decisions = []
    for i, t in enumerate(tickets):
        j = int(team_of[i])
        if j < 0:
            decisions.append(Decision(t.ticket_id, None, "greedy", None, None, {}, reasons[i]))
            continue
        team = teams[j]
        bd = {
            "zone": 0.4 if t.zone == team.zone else 0.0,
            "availability": 0.3 if team.status == "available" else 0.0,
            "workload": (1.0 - team.tickets_completed / 100.0) * 0.2,
            "rating": (team.customer_rating / 5.0) * 0.1,
        }
        score = calculate_assignment_score(t, team)
        d = float(pair_distance_km(tk, tm, np.array([i]), np.array([j]))[0])
        decisions.append(Decision(t.ticket_id, team.team_id, "greedy", d, score, bd,
                                  f"greedy (seeds' score {score:.3f}): best-scored available team in {t.zone}"))
    return Plan(tuple(decisions), "greedy", time.perf_counter() - t0)
