"""A simulation is bounded: its rolled-back transaction (which holds SQLite's write lock, so
ingest waits for it) lasts at most ``simulation_timeout`` and a bounded number of node
passages, and messages are rendered only after that transaction is over."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Engine, event

from kairos.journeys import simulate as simulation
from tests.conftest import Api
from tests.journeys.conftest import journey
from tests.journeys.test_simulate import ANN, welcome_journey

TICKING = {
    "trigger": {"type": "api"},
    "start": "tick",
    "nodes": {
        "tick": {"type": "wait", "duration": {"minutes": 1}, "next": "mark"},
        "mark": {"type": "update_contact", "set_traits": {"ticked": True}, "next": "tick"},
    },
}


def test_a_simulation_that_runs_too_long_is_a_422(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopwatch that advances 0.1 s per look stands in for slow work: the default 2 s
    budget is spent after some twenty passes."""
    ticks = count()
    monkeypatch.setattr(simulation, "_clock", lambda: next(ticks) / 10)
    jid = journey(api, TICKING, publish=False)
    r = api.post(f"/journeys/{jid}/simulate", {"contact": ANN, "until": {"days": 400}})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "simulation_too_long"
    assert "took too long" in r.json()["message"]


def test_a_simulation_that_passes_too_many_nodes_is_a_422(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulation, "MAX_STEPS", 30)
    jid = journey(api, TICKING, publish=False)
    r = api.post(f"/journeys/{jid}/simulate", {"contact": ANN, "until": {"days": 400}})
    assert r.status_code == 422, r.text
    assert r.json() == {
        "code": "simulation_too_long",
        "message": "the simulation passed more than 30 nodes: shorten `until` or check the journey for loops",
    }
    # nothing of it stayed behind: the same journey simulates again
    monkeypatch.setattr(simulation, "MAX_STEPS", 10_000)
    r = api.post(f"/journeys/{jid}/simulate", {"contact": ANN, "until": {"minutes": 3}})
    assert r.status_code == 200, r.text


@pytest.fixture
def open_transactions(engine: Engine) -> Iterator[list[int]]:
    counter = [0]

    def began(conn: Any) -> None:
        counter[0] += 1

    def ended(conn: Any) -> None:
        counter[0] -= 1

    listeners = [("begin", began), ("commit", ended), ("rollback", ended)]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    yield counter
    for name, fn in listeners:
        event.remove(engine, name, fn)


def test_messages_are_rendered_after_the_transaction(
    api: Api, email_channel: dict[str, Any], monkeypatch: pytest.MonkeyPatch, open_transactions: list[int]
) -> None:
    """Compiling and rendering a template can take up to its own deadline: never with the
    simulation's write transaction open."""
    seen: list[int] = []
    real = simulation.compile_template

    def compile_and_look(channel: str, fields: Any) -> Any:
        seen.append(open_transactions[0])
        return real(channel, fields)

    monkeypatch.setattr(simulation, "compile_template", compile_and_look)
    # what is tested is where rendering happens, not the 2 s budget (tested above): late in a
    # long PostgreSQL run the welcome journey's simulation has overrun it on this machine
    monkeypatch.setattr(simulation, "_clock", lambda: 0.0)
    jid = welcome_journey(api)
    r = api.post(f"/journeys/{jid}/simulate", {"contact": ANN})
    assert r.status_code == 200, r.text
    assert [m["content"]["subject"] for m in r.json()["messages"]] == ["Hello Ann", "Still there, Ann?"]
    assert seen == [0, 0]
