"""Request and response models of the scoring routes (``routes/scoring.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ScoreModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(max_length=100, description="a-z, 0-9 and _; segments and journeys name the model by it")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    decay: dict[str, Any] | None = Field(
        None,
        description='`{"type": "none"}` (default), `{"type": "half_life", "days": 30}` or '
        '`{"type": "points", "points": 5, "every_days": 7}` (points off towards 0 per period '
        "without activity)",
    )
    min_score: float | None = Field(None, description="Scores never go below (optional)")
    max_score: float | None = Field(None, description="Scores never go above (optional)")
    is_default: bool | None = Field(
        None, description="The contact's `score` field mirrors the default model (the first model by default)"
    )


class ScoreModelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    decay: dict[str, Any] | None = None
    min_score: float | None = None
    max_score: float | None = None
    is_default: bool | None = None


class ScoreRuleBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    kind: Literal["event", "condition"]


class ScoreRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    points: float = Field(ge=-1_000_000, le=1_000_000, description="Negative points take off")
    rule: dict[str, Any] = Field(
        description='`{"kind": "event", "event": "Page Viewed", "where": [property filters], "cap": '
        '{"points": 30, "per": "day|week|month|ever"}}` or `{"kind": "condition", "condition": '
        "{segment condition}}` (docs/leads.md)"
    )


class ScoreRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    points: float | None = Field(None, ge=-1_000_000, le=1_000_000)
    rule: dict[str, Any] | None = None


class ScoreRuleRead(BaseModel):
    id: int
    model_id: int
    name: str
    kind: Literal["event", "condition"]
    points: float
    rule: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class RecomputeProgress(BaseModel):
    status: Literal["idle", "pending", "running"] = Field(
        description="pending: queued after a change; running: `done` of `total` contacts recomputed"
    )
    done: int
    total: int
    started_at: datetime | None
    finished_at: datetime | None


class ScoreModelRead(BaseModel):
    id: int
    key: str
    name: str
    description: str | None
    decay: dict[str, Any]
    min_score: float | None
    max_score: float | None
    is_default: bool
    rules: list[ScoreRuleRead]
    recompute: RecomputeProgress
    created_at: datetime
    updated_at: datetime


class ScoreModelRef(BaseModel):
    id: int
    key: str
    name: str
    is_default: bool


class LedgerEntry(BaseModel):
    id: int
    kind: Literal["event", "entered", "exited", "decay", "recompute"] = Field(
        description="event: an event rule; entered/exited: a condition rule began/stopped holding; decay; "
        "recompute: restated after the model changed (params.rules: points per rule)"
    )
    delta: float
    score: float = Field(description="The score after this change")
    reason: str = Field(description="The reason in English; `kind` and `params` for other languages")
    params: dict[str, Any]
    rule_id: int | None
    event_id: int | None
    occurred_at: datetime | None = Field(description="The event's timestamp (event rules)")
    at: datetime


class ContactScore(BaseModel):
    model: ScoreModelRef
    score: float
    changed_at: datetime | None = Field(description="Last change; null: never scored (0)")
    ledger: list[LedgerEntry] = Field(description="The latest changes, newest first")


class ContactScores(BaseModel):
    data: list[ContactScore]


class ScoreBucket(BaseModel):
    low: float = Field(description="Inclusive")
    high: float = Field(description="Exclusive (inclusive for the last bucket)")
    contacts: int


class ScoreMovement(BaseModel):
    day: str = Field(description="UTC date")
    gained: float = Field(description="Sum of positive changes")
    lost: float = Field(description="Sum of negative changes (≤ 0)")
    contacts: int = Field(description="Contacts whose score changed that day")


class ScoreRuleImpact(BaseModel):
    rule_id: int | None
    name: str
    kind: str
    points: float
    changes: int


class ScoreReport(BaseModel):
    model: ScoreModelRef
    scored: int = Field(description="Live contacts with a score row")
    unscored: int = Field(description="Live contacts without one (their score is 0)")
    average: float | None
    buckets: list[ScoreBucket]
    since: datetime
    until: datetime
    movement: list[ScoreMovement]
    by_reason: list[ScoreRuleImpact] = Field(
        description="Points per rule (and decay, recompute) in the range"
    )
