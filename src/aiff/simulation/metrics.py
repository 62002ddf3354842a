"""The KPIs of one simulated run, from its log only (so a test can check them by hand).

- drive h / km per completed ticket: every leg driven (to jobs, including one abandoned by the ill team,
  and home) over completed tickets;
- on-time % by priority: tickets finished by their SLA due time, over tickets that were completed or
  whose due time fell inside the simulation (tickets still open and not yet due are not judged);
- completed per team-day: completed tickets / (teams x working days);
- overtime h: sum over team-days of (home arrival - 17:00) when positive;
- utilisation: service time of completed tickets / (teams x working days x 9 h shift);
- churn: moves (a queued ticket changing team) per arrived ticket;
- decision time p50/p99: wall clock of each planning call (nearest: each dispatch round).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aiff.simulation.world import DAY, HOUR, SHIFT_END, SHIFT_START

PRIORITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Metrics:
    strategy: str
    tickets: int
    completed: int
    unserved: int
    drive_h_per_ticket: float
    km_per_ticket: float
    on_time: dict[str, float]  # priority -> share (nan when none judged)
    late_h: dict[str, float]  # priority -> mean hours past due per judged ticket, 0 if on time (nan: none judged)
    per_team_day: float
    overtime_h: float
    utilisation: float
    churn: float
    decide_p50_ms: float
    decide_p99_ms: float


def compute(sim, strategy: str) -> Metrics:
    done = {j["ticket"]: j for j in sim.jobs if j["done"]}
    drive_s = sum(leg["secs"] for leg in sim.legs)
    metres = sum(leg["metres"] for leg in sim.legs)
    n_done = len(done)
    on_time, late_h = {}, {}
    for p in PRIORITIES:
        judged = [t for t in sim.tickets.values() if t.priority == p and (t.id in done or t.due <= sim.end)]
        ok = sum(1 for t in judged if t.id in done and done[t.id]["end"] <= t.due)
        on_time[p] = ok / len(judged) if judged else float("nan")
        # how late, over every judged ticket (0 when on time): done late -> end - due; never done -> at least
        # the run's end - due. Averaged over the judged, not the late, so turning a small miss into an on-time
        # finish never makes it look worse.
        late = [max(0, (done[t.id]["end"] if t.id in done else sim.end) - t.due) for t in judged]
        late_h[p] = sum(late) / len(late) / HOUR if late else float("nan")
    team_days = len(sim.teams) * len(sim.days)
    overtime = sum(max(0, home - (day * DAY + SHIFT_END)) for _, day, home in sim.homes)
    service = sum(j["service"] for j in done.values())
    times = np.array(sim.decide_seconds) * 1000 if sim.decide_seconds else np.zeros(1)
    return Metrics(
        strategy=strategy, tickets=len(sim.tickets), completed=n_done, unserved=len(sim.tickets) - n_done,
        drive_h_per_ticket=drive_s / HOUR / n_done if n_done else float("nan"),
        km_per_ticket=metres / 1000 / n_done if n_done else float("nan"),
        on_time=on_time, late_h=late_h, per_team_day=n_done / team_days, overtime_h=overtime / HOUR,
        utilisation=service / (team_days * (SHIFT_END - SHIFT_START)),
        churn=sim.moves / max(1, len(sim.tickets)),
        decide_p50_ms=float(np.percentile(times, 50)), decide_p99_ms=float(np.percentile(times, 99)))
