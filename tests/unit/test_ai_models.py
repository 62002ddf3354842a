"""Forecaster vs seasonal-naive, classifier vs majority baseline, intent parsing (EN and BM)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from aiff.ai.forecast import backtest, forecast, seasonal_naive
from aiff.ai.intents import parse
from aiff.ai.text import LearnedTextClassifier, RulesCategoryClassifier, TextModels, urgency_cues


def weekly_series(days: int = 210, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    profile = np.array([1.25, 1.15, 1.1, 1.05, 1.0, 0.6, 0.45])  # Mon..Sun
    lam = (20 + 0.03 * t) * profile[t % 7]
    return rng.poisson(lam).astype(float)


@pytest.mark.parametrize("horizon", [7, 14, 30])
def test_forecaster_beats_seasonal_naive_on_weekly_data(horizon):
    y = weekly_series()
    result = backtest(y, horizon)
    assert result.origins >= 10
    assert result.model_mape < result.naive_mape * 0.85, result  # clearly better, not a tie
    assert result.beats_baseline


def test_forecast_intervals_cover_most_actuals():
    y = weekly_series(300, seed=11)
    hits = total = 0
    for origin in range(120, 290, 7):
        fc = forecast(y[:origin], 7)
        actual = y[origin : origin + 7]
        hits += int(np.sum((actual >= fc.lower) & (actual <= fc.upper)))
        total += len(actual)
    assert 0.65 <= hits / total <= 0.95  # nominal 80%


def test_short_series_and_baseline():
    fc = forecast(np.array([3.0, 4.0, 5.0]), 5)
    assert len(fc.mean) == 5 and (fc.lower <= fc.mean).all()
    assert list(seasonal_naive(np.arange(14.0), 3)) == [7.0, 8.0, 9.0]


WORDS = {
    "fiber": ["fiber cut", "ONT LOS red", "kabel fiber putus", "optical loss", "GPON port down", "splitter rosak"],
    "copper": ["no dial tone", "kabel tembaga dicuri", "DSL sync drops", "noisy telephone line", "tiada nada dail"],
    "wireless": ["tower signal weak", "antenna misaligned", "menara tiada isyarat", "LTE site down", "microwave link"],
    "power": ["genset failed", "battery bank flat", "rectifier alarm", "bekalan elektrik TNB putus", "UPS fault"],
    "installation": ["new installation", "pemasangan baru", "relocate line", "new service request", "upgrade package install"],
    "equipment": ["router faulty", "modem hang", "replace CPE", "switch rosak", "peralatan rosak"],
}
FILLER = ["at", "Jalan Besar", "Taman Desa", "customer", "pelanggan", "since morning", "sejak pagi", "please check", "tolong periksa", "block C"]


def synthetic_tickets(n: int, seed: int = 5):
    rng = random.Random(seed)
    cats = list(WORDS)
    weights = [0.3, 0.15, 0.15, 0.1, 0.2, 0.1]
    texts, labels = [], []
    for _ in range(n):
        c = rng.choices(cats, weights)[0]
        # 25% of tickets carry a cue from another category too: the task is not trivially separable
        parts = [rng.choice(WORDS[c])] + rng.sample(FILLER, 3)
        if rng.random() < 0.25:
            parts.append(rng.choice(WORDS[rng.choice(cats)]))
        rng.shuffle(parts)
        texts.append(" ".join(parts))
        labels.append(c)
    return texts, labels


def test_classifier_beats_majority_baseline():
    texts, labels = synthetic_tickets(600)
    report = LearnedTextClassifier("category").fit(texts, labels)
    assert report.baseline_accuracy < 0.4
    assert report.accuracy > report.baseline_accuracy + 0.3
    assert report.beats_baseline


def test_text_models_fall_back_to_rules_with_little_history():
    texts, labels = synthetic_tickets(50)
    models = TextModels.train(texts, [None] * 50, labels, ["medium"] * 50)
    assert isinstance(models.category, RulesCategoryClassifier)
    assert models.category.predict(["Kabel fiber putus, ONT LOS"])[0].label == "fiber"


def test_urgency_cues_english_and_malay():
    cues = urgency_cues("Segera: talian putus di Hospital Besar, kecemasan, outage affecting 300 homes")
    assert {"segera", "hospital", "kecemasan", "outage", "many_customers"} <= set(cues)
    assert urgency_cues("routine modem swap") == []


@pytest.mark.parametrize(
    "message, intent, slots",
    [
        ("how many critical tickets are open in Sabah?", "count_tickets", {"zone": "Sabah", "priority": "critical", "status": "open"}),
        ("berapa tiket kritikal terbuka di Sabah?", "count_tickets", {"zone": "Sabah", "priority": "critical", "status": "open"}),
        ("Berapa tiket tinggi dalam proses di Pulau Pinang", "count_tickets", {"zone": "Pulau Pinang", "priority": "high", "status": "in_progress"}),
        ("How many low priority tickets in KL are completed today", "count_tickets", {"zone": "Kuala Lumpur", "priority": "low", "status": "completed"}),
        ("which team in Johor met the most SLAs this week?", "top_team_sla", {"zone": "Johor", "period": "week"}),
        ("pasukan mana di Johor paling banyak capai SLA minggu ini?", "top_team_sla", {"zone": "Johor", "period": "week"}),
        ("why was TKT-2026-000123 given to team 12?", "explain_assignment", {"ticket": "TKT-2026-000123", "team_id": 12}),
        ("kenapa TKT-2026-000123 diberi kepada pasukan 12?", "explain_assignment", {"ticket": "TKT-2026-000123", "team_id": 12}),
        ("what will Selangor's load be next week?", "forecast_load", {"zone": "Selangor", "horizon": 7}),
        ("ramalan beban Selangor bulan depan", "forecast_load", {"zone": "Selangor", "horizon": 30}),
        ("who should take TKT-2026-000005?", "suggest_assignment", {"ticket": "TKT-2026-000005"}),
        ("give me a summary", "overview", {}),
    ],
)
def test_intent_parser(message, intent, slots):
    parsed = parse(message)
    assert parsed.name == intent
    for k, v in slots.items():
        assert parsed.slots.get(k) == v, (k, parsed.slots)


def test_language_detection():
    assert parse("berapa tiket kritikal terbuka di Sabah?").language == "ms"
    assert parse("how many critical tickets are open in Sabah?").language == "en"


def test_similarities_compare_each_query_with_its_own_candidates() -> None:
    from aiff.ai.text import similarities

    queries = ["Kabel fiber putus di Jalan Gaya", "Power outage at the substation"]
    candidates = [["Kabel fiber putus di Jalan Gaya", "Lampu jalan rosak", "kabel fiber putus jalan gaya"], []]
    first, second = similarities(queries, candidates)
    assert first[0] > 0.99  # the same text
    assert first[2] > 0.6 > first[1]  # near copy vs unrelated
    assert second.shape == (0,)
    assert [len(s) for s in similarities(["x"], [[]])] == [0]
