"""/api/v1/journeys/{id}/simulate — thin: parse, call ``kairos.journeys.simulate``, answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter

from kairos.api.deps import StateDep, WorkspaceDep
from kairos.api.simulation_schemas import Offset, SimulationCreate, SimulationRead
from kairos.clock import ensure_utc
from kairos.journeys.simulate import ScriptedEvent, SimulationRequest, simulate

router = APIRouter(tags=["journeys"])


@router.post("/journeys/{journey_id}/simulate", response_model=SimulationRead)
def simulate_journey(
    journey_id: int, body: SimulationCreate, state: StateDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Run the draft (or live version) for a real or hypothetical contact against a scripted
    timeline of events under a virtual clock, and answer the path taken, each wait and every
    message that would be sent, rendered. Nothing is stored and nothing is sent; the trigger
    is bypassed, the entry rules apply. Consent, caps and quiet hours apply at send time and
    are not shown. A simulation that runs too long (`KAIROS_SIMULATION_TIMEOUT`, 2 s) or
    passes more than 2,000 nodes is a 422 `simulation_too_long`."""
    # offsets count from the start, in calendar months and years like journey waits
    start = ensure_utc(body.start or state.now(ws))
    request = SimulationRequest(
        version=body.version,
        contact_id=body.contact_id,
        contact=body.contact.model_dump(exclude_none=True) if body.contact is not None else None,
        payload=body.payload,
        trigger_event=body.trigger_event.properties if body.trigger_event is not None else None,
        events=[
            ScriptedEvent(_offset(e.at, start) if isinstance(e.at, Offset) else e.at, e.event, e.properties)
            for e in body.events
        ],
        start=body.start,
        until=_offset(body.until, start),
    )
    return simulate(
        state.engine,
        ws.id,
        journey_id,
        request,
        state.now(ws),
        links=state.links,
        default_country=ws.default_country,
        timeout=state.settings.simulation_timeout,
    )


def _offset(offset: Offset, start: datetime) -> timedelta:
    return offset.after(start) - start
