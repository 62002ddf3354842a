"""The `aiff` command's surface: the names the Makefile, deploy scripts and README use, exit codes, completion."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiff import cli

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands configure logging for the process; put the test run's back."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = saved


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Record what each tool entry point receives (the tools themselves are tested against the stack)."""
    seen: dict[str, object] = {}

    def record(name: str, code: int = 0):  # noqa: ANN202
        def entry(*args: object, **kwargs: object) -> int:
            seen[name] = (args, kwargs)
            return code

        async def entry_async(*args: object, **kwargs: object) -> int:
            return entry(*args, **kwargs)

        return entry_async if name in ("list_letters", "redrive", "show_letter") else entry

    for module, name in [("aiff.tools.seed", "cmd_seed"), ("aiff.tools.replay", "cmd_replay"), ("aiff.tools.dlq", "list_letters"),
                         ("aiff.tools.dlq", "redrive"), ("aiff.tools.users", "cmd_users_create"),
                         ("aiff.tools.backtest", "cmd_backtest"), ("aiff.tools.offsets", "cmd_offsets"),
                         ("aiff.tools.offsets", "cmd_reset"), ("aiff.tools.dlq", "show_letter")]:  # fmt: skip
        monkeypatch.setattr(f"{module}.{name}", record(name))
    return seen


def test_help_lists_every_command() -> None:
    result = runner.invoke(cli.app, ["--help"], prog_name="aiff")
    assert result.exit_code == 0
    for command in ("api", "worker", "db", "topics", "events", "seed", "replay", "offsets", "dlq", "users", "backtest"):
        assert f" {command} " in result.output


def test_seed_options_as_make_up_passes_them(calls: dict[str, object]) -> None:
    assert runner.invoke(cli.app, ["seed", "--if-empty", "--wait"]).exit_code == 0
    assert calls["cmd_seed"] == ((), {"seed": 42, "teams": 150, "tickets": 1000, "days": 90, "if_empty": True, "wait": True})
    assert runner.invoke(cli.app, ["seed", "--seed", "7", "--teams", "3", "--tickets", "20", "--days", "2"]).exit_code == 0
    assert calls["cmd_seed"] == ((), {"seed": 7, "teams": 3, "tickets": 20, "days": 2, "if_empty": False, "wait": False})


def test_tool_options_reach_the_tools(calls: dict[str, object]) -> None:
    assert runner.invoke(cli.app, ["replay", "--verify"]).exit_code == 0
    assert calls["cmd_replay"] == ((True,), {})
    assert runner.invoke(cli.app, ["dlq", "list", "--limit", "5", "--json"]).exit_code == 0
    assert calls["list_letters"] == ((5, True), {})
    assert runner.invoke(cli.app, ["dlq", "list", "--limit", "0"]).exit_code == 0
    assert calls["list_letters"] == ((None, False), {})
    assert runner.invoke(cli.app, ["dlq", "redrive", "--offset", "3", "--offset", "5"]).exit_code == 0
    assert calls["redrive"] == (([3, 5],), {})
    assert runner.invoke(cli.app, ["offsets", "--json"]).exit_code == 0
    assert calls["cmd_offsets"] == ((None, True), {})
    assert runner.invoke(cli.app, ["offsets", "show", "aiff.projector"]).exit_code == 0
    assert calls["cmd_offsets"] == (("aiff.projector", False), {})
    assert runner.invoke(cli.app, ["dlq", "show", "4", "--json"]).exit_code == 0
    assert calls["show_letter"] == ((4, True), {})
    args = ["backtest", "--strategy", "greedy", "--strategy", "optimal", "--from", "2026-01-01", "--to", "2026-02-01", "--json"]
    assert runner.invoke(cli.app, args).exit_code == 0
    assert calls["cmd_backtest"] == ((["greedy", "optimal"], "2026-01-01", "2026-02-01", True), {})
    args = ["users", "create", "--username", "admin", "--password", "longenough", "--role", "admin"]
    assert runner.invoke(cli.app, args).exit_code == 0
    assert calls["cmd_users_create"] == ((), {"username": "admin", "password": "longenough", "role": "admin", "email": None, "team": None})


def test_offsets_reset_takes_exactly_one_target(calls: dict[str, object]) -> None:
    from aiff.tools.offsets import Target

    assert runner.invoke(cli.app, ["offsets", "reset", "projector", "--to-earliest", "--dry-run"]).exit_code == 0
    assert calls.pop("cmd_reset") == (("projector", Target(earliest=True), None, True, False), {})
    assert runner.invoke(cli.app, ["offsets", "reset", "sla", "--to-time", "2026-11-01T08:00", "--topic", "aiff.tickets"]).exit_code == 0
    (_, target, topic, _, _), _ = calls.pop("cmd_reset")  # type: ignore[misc]
    assert target.time.isoformat() == "2026-11-01T08:00:00+00:00" and topic == "aiff.tickets"
    assert runner.invoke(cli.app, ["offsets", "reset", "sla", "--to-offset", "5"]).exit_code == 0
    assert calls.pop("cmd_reset")[0][1] == Target(offset=5)  # type: ignore[index]
    for bad in (["--to-earliest", "--to-offset", "5"], [], ["--to-time", "yesterday"]):
        assert runner.invoke(cli.app, ["offsets", "reset", "projector", *bad]).exit_code == 2, bad
    assert not calls


def test_bad_choices_and_names_are_usage_errors(calls: dict[str, object]) -> None:
    assert runner.invoke(cli.app, ["backtest", "--strategy", "fastest"]).exit_code == 2
    assert runner.invoke(cli.app, ["users", "create", "--username", "u", "--password", "p" * 8, "--role", "root"]).exit_code == 2
    result = runner.invoke(cli.app, ["worker", "projector", "nope"])
    assert result.exit_code == 2 and "unknown consumer(s): nope" in result.output
    assert cli.main(["worker", "nope"]) == 2
    assert not calls


def test_a_tool_s_exit_code_is_the_command_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aiff.tools.offsets.cmd_offsets", lambda group, as_json: 3)
    assert cli.main(["offsets"]) == 3


def test_events_check_passes_on_the_committed_contract_and_fails_on_drift(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["events", "check", "--out", str(ROOT / "events")])
    assert result.exit_code == 0 and "event contract matches the models" in result.output
    result = runner.invoke(cli.app, ["events", "check", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "run `aiff events export`" in result.output
    assert runner.invoke(cli.app, ["events", "export", "--out", str(tmp_path)]).exit_code == 0
    assert runner.invoke(cli.app, ["events", "check", "--out", str(tmp_path)]).exit_code == 0


def test_shell_completion_offers_consumer_names() -> None:
    env = {"_AIFF_COMPLETE": "complete_bash", "COMP_WORDS": "aiff worker pro", "COMP_CWORD": "2"}
    result = runner.invoke(cli.app, [], env=env, prog_name="aiff")
    assert result.output.split() == ["projector"]
    result = runner.invoke(cli.app, ["--show-completion", "bash"], prog_name="aiff")
    assert result.exit_code == 0 and "_AIFF_COMPLETE=complete_bash" in result.output


def test_json_listings_are_plain_json(capsys: pytest.CaptureFixture[str]) -> None:
    from aiff.tools.offsets import lag_rows, offsets_table
    from aiff.tools.output import print_json, print_table

    rows = lag_rows([("projector", "aiff.tickets", 0, 90), ("projector", "aiff.tickets", 1, 40), ("ai", "aiff.teams", 0, 5)],
                    {("aiff.tickets", 0): 100, ("aiff.tickets", 1): 40, ("aiff.tickets", 2): 7},
                    {("projector", "aiff.tickets", 0): 88})  # fmt: skip
    print_json(rows)
    assert json.loads(capsys.readouterr().out) == [
        {"consumer": "ai", "topic": "aiff.teams", "partition": 0, "position": 5, "kafka": None, "end": None, "lag": None},
        {"consumer": "projector", "topic": "aiff.tickets", "partition": 0, "position": 90, "kafka": 88, "end": 100, "lag": 10},
        {"consumer": "projector", "topic": "aiff.tickets", "partition": 1, "position": 40, "kafka": None, "end": 40, "lag": 0},
        {"consumer": "projector", "topic": "aiff.tickets", "partition": 2, "position": None, "kafka": None, "end": 7, "lag": 7},
    ]
    print_table(offsets_table(rows, {"projector": 2}))
    table = capsys.readouterr().out
    assert "total lag: ai 0 (0 live member(s)), projector 17 (2 live member(s))" in table


def test_backtest_reports_each_ticket_to_its_bar_and_kpis_as_json() -> None:
    from aiff.assignment.backtest import run_backtest
    from aiff.assignment.synthetic import make_history
    from aiff.tools.backtest import kpis_json, kpis_table

    sc = make_history(200, 15, seed=3)
    seen: list[int] = []
    res = run_backtest(["greedy", "nearest"], sc.tickets, sc.teams, sc.service_minutes, progress=seen.append)
    assert sum(seen) == 2 * 200 and all(n > 0 for n in seen)
    data = json.loads(json.dumps(kpis_json(res)))
    assert [d["strategy"] for d in data] == ["greedy", "nearest"]
    assert all(d["assigned"] + d["never_assigned"] == 200 and "team_of" not in d for d in data)
    assert [c.header for c in kpis_table(res).columns] == ["KPI", "greedy", "nearest"]


def test_dead_letters_table_shows_source_reason_and_truncation(capsys: pytest.CaptureFixture[str]) -> None:
    from aiokafka import ConsumerRecord

    from aiff.tools.dlq import describe, letters_table
    from aiff.tools.output import print_table

    headers = [("dlq_topic", b"aiff.tickets"), ("dlq_partition", b"2"), ("dlq_offset", b"17"), ("dlq_consumer", b"projector"),
               ("dlq_reason", b"unknown ticket 7"), ("dlq_truncated", b"1"), ("dlq_original_bytes", b"2000000")]  # fmt: skip
    record = ConsumerRecord("aiff.dead-letters", 0, 4, 0, 0, b"7", b'{"type": "x"}', None, 1, 13, headers)
    letter = describe(record)
    assert letter | {"time": None} == {
        "offset": 4, "partition": 0, "time": None, "consumer": "projector", "topic": "aiff.tickets", "source_partition": 2,
        "source_offset": 17, "reason": "unknown ticket 7", "truncated": True, "original_bytes": 2000000, "value": '{"type": "x"}',
    }  # fmt: skip
    print_table(letters_table([letter]))
    out = capsys.readouterr().out  # not a terminal: wide rows, one line per letter
    row = next(line for line in out.splitlines() if "unknown ticket 7" in line)
    assert "aiff.tickets[2]@17" in row and "projector" in row and "truncated from 2000000 bytes" in out
