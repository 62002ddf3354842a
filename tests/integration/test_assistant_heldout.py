"""The assistant on held-out questions (bench/assistant_heldout.py: written apart from the training paraphrases and
the template bench), over demo read models; every sixth question of sets a–f, expected answers computed by the bench's own SQL."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from aiff.assistant.demo_db import load_demo

pytestmark = pytest.mark.integration


def _heldout():
    spec = importlib.util.spec_from_file_location("bench_assistant_heldout", pathlib.Path(__file__).parents[2] / "bench" / "assistant_heldout.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


async def test_heldout_sample_is_at_least_90_percent(resources):
    bench = _heldout()
    async with resources.pool.acquire() as conn:
        await load_demo(conn, seed=5, teams=30, tickets=900, days=40)
        qs = bench.questions(await bench.fills(conn), "all")
    sample = qs[::6]  # every sixth of sets a–f keeps the test fast
    result = await bench.score(resources.pool, sample)
    assert len(sample) >= 60 and sum(q["lang"] == "ms" for q in sample) >= 25 and any(len(q["turns"]) > 1 for q in sample)
    assert result["accuracy"] >= 0.90, [(r["turns"], r["expected"], r["reply"][:200]) for r in result["results"] if not r["ok"]]
