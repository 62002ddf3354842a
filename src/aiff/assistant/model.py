"""The intent model: TF-IDF (words 1-2 and characters 2-5, which tolerate typos and Malay/English mixing) into a
logistic regression, trained at start-up from the paraphrase file shipped in the package (no downloads, < 1 s)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

PARAPHRASES = "paraphrases.txt"


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    runner_up: str


def load_paraphrases() -> list[tuple[str, str]]:
    text = resources.files("aiff.assistant.data").joinpath(PARAPHRASES).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            intent, phrase = line.split("\t", 1)
            rows.append((intent.strip(), phrase.strip().lower()))
    return rows


class IntentModel:
    def __init__(self, rows: list[tuple[str, str]]) -> None:
        features = FeatureUnion([
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ])  # fmt: skip
        self.pipeline = make_pipeline(features, LogisticRegression(max_iter=3000, C=20.0))
        self.pipeline.fit([p for _, p in rows], [i for i, _ in rows])
        self.intents = sorted({i for i, _ in rows})

    def predict(self, masked: str) -> Prediction:
        proba = self.pipeline.predict_proba([masked])[0]
        classes = self.pipeline.classes_
        order = proba.argsort()[::-1]
        return Prediction(str(classes[order[0]]), round(float(proba[order[0]]), 3), str(classes[order[1]]))

    def ranked(self, masked: str) -> list[tuple[str, float]]:
        proba = self.pipeline.predict_proba([masked])[0]
        return sorted(((str(c), float(p)) for c, p in zip(self.pipeline.classes_, proba)), key=lambda kv: -kv[1])


@functools.cache
def model() -> IntentModel:
    """The process's intent model (trained once, on first use)."""
    return IntentModel(load_paraphrases())
