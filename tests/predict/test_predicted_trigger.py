"""The ``predicted_crossed`` journey trigger: contacts whose probability in a predictive model
crosses a threshold when the worker re-scores it enter the journey (up and down), a newly
scored contact counts as coming from below (not in the model's first run), each crossing
enters once, and the definition's model key is checked."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from kairos.clock import FixedClock
from kairos.predict.tables import contact_prediction
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.predict.test_predict import DAY, Seeder, create, planted, run

EXIT = {"start": "a", "nodes": {"a": {"type": "exit"}}}


def journey(api: Api, name: str, trigger: dict[str, object]) -> int:
    body = {"name": name, "definition": {"trigger": trigger, "entry": {"reentry": "always"}, **EXIT}}
    r = api.post("/journeys", body)
    assert r.status_code == 201, r.text
    assert api.post(f"/journeys/{r.json()['id']}/publish").status_code == 200
    return int(r.json()["id"])


def entered(api: Api, journey_id: int) -> dict[int, dict[str, object]]:
    rows = api.get(f"/journeys/{journey_id}/enrollments").json()["data"]
    return {int(e["contact_id"]): e for e in rows}


def probabilities(engine: Engine) -> dict[int, float]:
    with engine.connect() as conn:
        rows = conn.execute(select(contact_prediction.c.contact_id, contact_prediction.c.probability)).all()
    return {int(c): float(p) for c, p in rows}


def test_a_probability_crossing_a_threshold_enters_the_journey(
    api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    now = clock.now()
    planted(engine, workspace, now, n=300)
    m = create(api, algorithm="logistic_regression")
    bad = {"type": "predicted_crossed", "model": "nope", "threshold": 0.5}
    r = api.post("/journeys", {"name": "bad", "definition": {"trigger": bad, **EXIT}})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_predictive_model"), r.text
    r = api.post("/journeys", {"name": "bad", "definition": {"trigger": {**bad, "model": "buyers", "threshold": 1.5},
                                                             **EXIT}})  # fmt: skip
    assert r.status_code == 422, r.text

    up = journey(api, "up", {"type": "predicted_crossed", "model": "buyers", "threshold": 0.3})
    down = journey(api, "down", {"type": "predicted_crossed", "model": "buyers", "threshold": 0.3,
                                 "direction": "down"})  # fmt: skip
    run(engine, clock)  # trained and scored for the first time: nobody crossed anything
    first = probabilities(engine)
    assert len(first) == 300 and any(p >= 0.3 for p in first.values())
    assert entered(api, up) == {} and entered(api, down) == {}

    # make some contacts' stored probabilities lie on the other side of the threshold: the
    # next daily scoring brings them back across it (others may cross on their own: a day
    # later their features differ)
    high = sorted(c for c, p in first.items() if p >= 0.4)[:5]
    low = sorted(c for c, p in first.items() if p < 0.2)[:4]
    with engine.begin() as conn:
        p = contact_prediction.c
        conn.execute(update(contact_prediction).where(p.contact_id.in_(high)).values(probability=0.01))
        conn.execute(update(contact_prediction).where(p.contact_id.in_(low)).values(probability=0.99))
    before = probabilities(engine)
    newcomer = Seeder(engine, workspace).contact(now + DAY / 2)
    clock.set(now + DAY)
    run(engine, clock)
    second = probabilities(engine)
    ups = {c for c, p in second.items() if p >= 0.3 and before.get(c, 0.0) < 0.3}  # a newcomer: from below
    downs = {c for c, p in second.items() if p < 0.3 and before.get(c, 0.0) >= 0.3}
    assert set(high) <= ups and set(low) <= downs and newcomer in second
    assert entered(api, up).keys() == ups
    assert entered(api, down).keys() == downs
    e = entered(api, up)[high[0]]
    assert e["payload"] == {"payload": {"model": "buyers", "threshold": 0.3, "direction": "up", "from": 0.01,
                            "to": second[high[0]]}}  # fmt: skip

    # the day after: only new crossings enter (those of day 1 do not enter again)
    clock.set(now + 2 * DAY)
    run(engine, clock)
    third = probabilities(engine)
    ups3 = [c for c, p in third.items() if p >= 0.3 and second[c] < 0.3]
    downs3 = [c for c, p in third.items() if p < 0.3 and second[c] >= 0.3]
    assert len(api.get(f"/journeys/{up}/enrollments").json()["data"]) == len(ups) + len(ups3)
    assert len(api.get(f"/journeys/{down}/enrollments").json()["data"]) == len(downs) + len(downs3)
    # a model a journey is triggered by cannot be deleted
    r = api.delete(f"/predictive-models/{m['id']}")
    assert (r.status_code, r.json()["code"]) == (409, "predictive_model_in_use"), r.text
    assert "journey 'up'" in r.json()["message"]
