"""Ticket text models: category and priority from title + description, urgency cues, near-duplicates.

The learned model is TF-IDF (word 1-2 grams + character 2-5 grams, which tolerate typos and Malay/English
mixing) into a multinomial logistic regression, trained on the ticket history. With too little history
(< `MIN_TRAINING_ROWS` labelled tickets) a keyword rules model stands in. Accuracy is measured on a
held-out stratified split and reported beside the majority-class baseline.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, make_pipeline

from aiff.events.vocabulary import PRIORITIES, SKILLS

MIN_TRAINING_ROWS = 200

# Urgency cues in English and Bahasa Malaysia; the label is what we report, the patterns what we match.
URGENCY_CUES: dict[str, tuple[str, ...]] = {
    "urgent": (r"\burgent\b", r"\basap\b", r"\bp1\b", r"\bcritical\b", r"\bimmediately\b"),
    "segera": (r"\bsegera\b", r"\bdengan segera\b"),
    "kecemasan": (r"\bkecemasan\b", r"\bemergency\b", r"\bcecemasan\b"),
    "hospital": (r"\bhospital\b", r"\bklinik\b", r"\bclinic\b", r"\bpusat perubatan\b"),
    "bank": (r"\bbank\b", r"\batm\b", r"\bmaybank\b", r"\bcimb\b"),
    "outage": (r"\boutage\b", r"\bgangguan\b", r"\bterputus\b", r"\bdown\b", r"\bmati\b"),
    "many_customers": (r"\b\d{2,}\s*(homes|houses|customers|rumah|pelanggan|premises)\b", r"\bseluruh kawasan\b", r"\bwhole area\b"),
    "safety": (r"\bsafety\b", r"\bbahaya\b", r"\bdanger\w*\b", r"\bfire\b", r"\bkebakaran\b", r"\bsparks?\b", r"\blive wire\b"),
    "police": (r"\bpolice\b", r"\bbalai polis\b", r"\bbomba\b"),
}
_CUE_RE = {label: re.compile("|".join(pats), re.IGNORECASE) for label, pats in URGENCY_CUES.items()}

CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "fiber": ("fiber", "fibre", "ont", "los", "gpon", "optical", "splitter", "fdp", "unifi", "olt"),
    "copper": ("copper", "tembaga", "dial tone", "nada dail", "dsl", "telephone", "telefon", "landline", "crosstalk"),
    "wireless": ("wireless", "tower", "menara", "antenna", "signal", "isyarat", "lte", "4g", "5g", "microwave", "radio", "base station"),
    "power": ("power", "genset", "generator", "battery", "bateri", "rectifier", "tnb", "elektrik", "electric", "ups", "voltage"),
    "installation": ("install", "pemasangan", "new line", "new service", "relocat", "pindah", "sambungan baru", "upgrade"),
    "equipment": ("router", "modem", "cpe", "switch", "equipment", "peralatan", "set-top", "decoder", "wifi router", "replace unit"),
}
PRIORITY_BY_CUES = (("critical", {"kecemasan", "hospital", "safety", "police"}), ("high", {"urgent", "segera", "bank", "outage", "many_customers"}))


def ticket_text(title: str | None, description: str | None) -> str:
    """The text the models read: the title twice (it carries most signal) and the description."""
    title = title or ""
    return f"{title} {title} {description or ''}".strip()


def urgency_cues(text: str) -> list[str]:
    """Urgency cue labels found in a text, e.g. ['hospital', 'segera']."""
    return [label for label, rx in _CUE_RE.items() if rx.search(text)]


@dataclass
class Prediction:
    label: str
    confidence: float


@dataclass
class TextModelReport:
    """How a text model did on its held-out split."""

    target: str
    kind: str
    n_train: int
    n_test: int
    accuracy: float | None
    baseline_accuracy: float | None
    majority_label: str | None

    @property
    def beats_baseline(self) -> bool | None:
        if self.accuracy is None or self.baseline_accuracy is None:
            return None
        return self.accuracy > self.baseline_accuracy


def _vectorizer() -> FeatureUnion:
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=True, max_features=60_000)),
        ]
    )


class LearnedTextClassifier:
    """TF-IDF + logistic regression for one target (category or priority)."""

    kind = "tfidf-logreg"

    def __init__(self, target: str) -> None:
        self.target = target
        self.pipeline = make_pipeline(_vectorizer(), LogisticRegression(max_iter=2000, C=4.0))
        self.report: TextModelReport | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[str], *, test_size: float = 0.2, seed: int = 7) -> TextModelReport:
        """Measure accuracy on a held-out split, then refit on everything for serving."""
        texts, labels = list(texts), list(labels)
        counts = Counter(labels)
        stratify = labels if min(counts.values()) >= 2 else None
        x_tr, x_te, y_tr, y_te = train_test_split(texts, labels, test_size=test_size, random_state=seed, stratify=stratify)
        self.pipeline.fit(x_tr, y_tr)
        accuracy = float(np.mean(self.pipeline.predict(x_te) == np.asarray(y_te)))
        majority = Counter(y_tr).most_common(1)[0][0]
        baseline = float(np.mean(np.asarray(y_te) == majority))
        self.pipeline.fit(texts, labels)
        self.report = TextModelReport(self.target, self.kind, len(x_tr), len(x_te), round(accuracy, 4), round(baseline, 4), majority)
        return self.report

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        proba = self.pipeline.predict_proba(list(texts))
        classes = self.pipeline.classes_
        best = proba.argmax(axis=1)
        return [Prediction(str(classes[i]), round(float(p[i]), 4)) for i, p in zip(best, proba)]


class RulesCategoryClassifier:
    """Keyword counts per category; used until there is enough labelled history."""

    kind = "rules"
    target = "category"
    report: TextModelReport | None = None

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        out = []
        for text in texts:
            low = text.lower()
            scores = {c: sum(low.count(k) for k in kws) for c, kws in CATEGORY_KEYWORDS.items()}
            best = max(scores, key=scores.get)
            total = sum(scores.values())
            out.append(Prediction(best, round(scores[best] / total, 4)) if total else Prediction("equipment", round(1 / len(SKILLS), 4)))
        return out


class RulesPriorityClassifier:
    """Urgency cues to priority: life/safety cues → critical, service-impact cues → high, else medium."""

    kind = "rules"
    target = "priority"
    report: TextModelReport | None = None

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        out = []
        for text in texts:
            cues = set(urgency_cues(text))
            label = next((p for p, needed in PRIORITY_BY_CUES if cues & needed), "medium")
            out.append(Prediction(label, 0.6 if cues else round(1 / len(PRIORITIES), 4)))
        return out


@dataclass
class TextModels:
    """The category and priority models in use, and their version."""

    category: object = field(default_factory=RulesCategoryClassifier)
    priority: object = field(default_factory=RulesPriorityClassifier)
    version: str = "rules-v1"
    trained_rows: int = 0

    @classmethod
    def train(cls, titles: Sequence[str], descriptions: Sequence[str | None], categories: Sequence[str | None], priorities: Sequence[str]) -> TextModels:
        """Learned models when there are ≥ MIN_TRAINING_ROWS labelled rows (per target), else rules."""
        texts = [ticket_text(t, d) for t, d in zip(titles, descriptions)]
        models = cls()
        cat_rows = [(x, c) for x, c in zip(texts, categories) if c in SKILLS]
        if len(cat_rows) >= MIN_TRAINING_ROWS and len({c for _, c in cat_rows}) >= 2:
            models.category = LearnedTextClassifier("category")
            models.category.fit([x for x, _ in cat_rows], [c for _, c in cat_rows])
        pri_rows = [(x, p) for x, p in zip(texts, priorities) if p in PRIORITIES]
        if len(pri_rows) >= MIN_TRAINING_ROWS and len({p for _, p in pri_rows}) >= 2:
            models.priority = LearnedTextClassifier("priority")
            models.priority.fit([x for x, _ in pri_rows], [p for _, p in pri_rows])
        kinds = {models.category.kind, models.priority.kind}
        models.trained_rows = max(len(cat_rows), len(pri_rows))
        models.version = f"{'tfidf-logreg' if 'tfidf-logreg' in kinds else 'rules'}-{int(time.time())}-n{models.trained_rows}"
        return models

    def reports(self) -> dict[str, dict | None]:
        out = {}
        for target in ("category", "priority"):
            model = getattr(self, target)
            r = model.report
            out[target] = {"kind": model.kind, **(r.__dict__ if r else {}), "beats_baseline": r.beats_baseline if r else None}
        return out


def similarities(queries: Sequence[str], candidates: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Cosine similarity of each query to each of its own candidate texts, over character 3-5-grams.

    Hashed n-gram counts with sublinear tf, l2-normalised: stateless, so nothing is fitted per ticket (fitting a
    vectorizer per new ticket made a burst of look-alike tickets cost seconds). All queries and their distinct
    candidates go through ONE vectorizer call and ONE sparse product (per-text calls were the AI consumer's
    main cost under a burst).
    """
    distinct: dict[str, int] = {}
    for texts in candidates:
        for text in texts:
            distinct.setdefault(text, len(distinct))
    if not distinct:
        return [np.zeros(len(texts)) for texts in candidates]
    matrix = _HASHER.transform([*queries, *distinct])
    matrix.data = 1.0 + np.log(matrix.data)
    matrix = normalize(matrix)
    sims = (matrix[: len(queries)] @ matrix[len(queries) :].T).toarray()
    return [sims[i, [distinct[t] for t in texts]] if texts else np.zeros(0) for i, texts in enumerate(candidates)]


_HASHER = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False, norm=None)
