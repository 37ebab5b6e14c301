"""/api/v1/clock — the workspace's clock: read it, and advance a sandbox's (``worker/sandbox.py``).

A live workspace runs on the real clock and cannot be moved (409 ``not_a_sandbox``); a
sandbox workspace (``kairos workspace create --sandbox``) runs on a virtual one that moves
only when advanced here or with ``kairos clock advance``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from kairos.api.deps import StateDep, WorkspaceDep
from kairos.durations import Duration
from kairos.errors import InvalidInput
from kairos.workspaces.clocks import sandbox_now

router = APIRouter(prefix="/clock", tags=["sandbox"])

#: wall-clock seconds one advance request may run; a longer one answers ``complete: false``
ADVANCE_TIMEOUT = 20.0


class ClockRead(BaseModel):
    now: datetime = Field(description="The workspace's current instant (UTC)")
    sandbox: bool = Field(description="true: a virtual clock, moved only by advancing it")


class AdvanceWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: AwareDatetime | None = Field(None, description="Advance to this instant (with its UTC offset)")
    by: Duration | None = Field(
        None, description='Or advance by this long, e.g. {"amount": 3, "unit": "days"}'
    )

    @model_validator(mode="after")
    def _one(self) -> AdvanceWrite:
        if (self.to is None) == (self.by is None):
            raise ValueError("give either 'to' (an instant) or 'by' (a duration)")
        return self


class AdvanceRead(BaseModel):
    started_at: datetime = Field(description="The sandbox's clock before this advance")
    now: datetime = Field(description="The sandbox's clock now")
    target: datetime
    complete: bool = Field(
        description="false: the request's time ran out first; the clock is consistent where it "
        "stopped, and advancing again to the same target carries on"
    )
    instants: int = Field(description="Instants visited, at each of which due work was run")
    done: dict[str, int] = Field(description="Units of work done per worker job (only non-zero ones)")


@router.get("", response_model=ClockRead)
def read_clock(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The workspace's now, as everything in it is stamped and reported."""
    return {"now": state.now(ws), "sandbox": ws.sandbox}


@router.post("/advance", response_model=AdvanceRead)
def advance_clock(body: AdvanceWrite, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Move a sandbox's clock forward, to `to` or `by` a duration (at most 400 days), and
    run everything that falls due on the way at its own instant: journey waits end, messages
    are sent (through the sandbox's own channels), broadcasts start and experiments end, as
    they would have live. 409 `not_a_sandbox` for a live workspace; 422 `clock_backwards`
    for an instant before the sandbox's now. One request runs for at most 20 seconds of wall
    clock: a longer advance answers `complete: false` and is continued by asking again."""
    if not ws.sandbox:
        with state.engine.connect() as conn:
            sandbox_now(conn, ws.id)  # raises not_a_sandbox
    if state.advancer is None:
        raise InvalidInput("this process cannot advance clocks", code="not_supported")
    if body.to is not None:
        target = body.to
    else:
        assert body.by is not None
        target = body.by.after(state.now(ws))
    result = state.advancer.advance(ws.id, target, timeout=ADVANCE_TIMEOUT)
    return {
        "started_at": result.started_at,
        "now": result.now,
        "target": result.target,
        "complete": result.complete,
        "instants": result.instants,
        "done": dict(result.done),
    }
