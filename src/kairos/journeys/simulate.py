"""Simulation: run a journey for one contact against a scripted timeline, changing nothing.

Marketers test a journey before they launch it: "if Ann enters and opens the email a day
later, what does she get, and when?" The answer comes from the production code, so it cannot
drift: ``entry.enroll`` enrolls (the trigger is bypassed, the entry rules apply), scripted
events are stored like tracked ones, and at each instant of a virtual clock the worker's
changed-contacts handlers (traits, segments, goals, exits, wake-ups) and the node handlers
move the enrollment. Messages stay queued and are rendered by the dispatcher's functions;
nothing is sent. Everything happens in one transaction, always rolled back.

That transaction writes (rolled back), so on SQLite it holds the write lock and every other
writer — ingest included — waits for it. It is kept short: a simulation taking longer than
``timeout`` seconds (wall clock) or more than ``MAX_STEPS`` node passages stops with a 422
``simulation_too_long``, and messages are rendered (templates compiled, Liquid run) only
after the rollback, from what was read inside.

Two narrowings keep a simulation off everyone else's rows (even rolled back, it would lock
them and take time): ``_process`` is ``process_changes`` for the simulated contact only, and
``_advance`` hands the simulated enrollment alone to the scheduler's ``engine.advance``.
``_refresh`` stands for the worker's periodic refreshes of time-dependent traits and
segments; at its production cadence it costs a refresh of every segment per few virtual
minutes, so it runs only for journeys with condition nodes (the only nodes that read
segments) and once at the start (for the entry rules).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from kairos.clock import ensure_utc
from kairos.contacts.attributes import attribute_types
from kairos.contacts.changes import Change, ChangeBatch, what_changed
from kairos.contacts.service import live_contact_id, mark_changed, normalize_profile
from kairos.contacts.tables import contact, contact_change
from kairos.contacts.tags import add_tags
from kairos.errors import Conflict, InvalidInput, KairosError
from kairos.events.ingest import InternalEvent, record_internal
from kairos.journeys import engine as journey_engine
from kairos.journeys.definition import ConditionNode, EventTrigger, SegmentTrigger, TagTrigger, parse_journey
from kairos.journeys.engine import ACTIVE, VERSIONS, WAIT
from kairos.journeys.entry import Candidate, enroll
from kairos.journeys.service import _check_references, get_journey
from kairos.journeys.tables import enrollment, journey, journey_step, journey_version
from kairos.journeys.triggers import journey_changes
from kairos.messaging.render import Tracking, context, load_contacts, render_content
from kairos.messaging.tables import message, template
from kairos.messaging.templates import compile_template
from kairos.messaging.tracking import Links
from kairos.segments.membership import TIME_REFRESH, reevaluate_contacts
from kairos.segments.service import add_list_members
from kairos.segments.tables import segment_membership
from kairos.segments.traits import recompute_traits

MAX_UNTIL = timedelta(days=400)
MAX_INSTANTS = 500  # virtual instants visited: a loop on a short wait stops here (truncated)
MAX_PASSES = 50  # handler passes per instant, as the worker repeats its jobs while they progress
MAX_STEPS = 2_000  # node passages in one simulation: more is a 422, not a result
TIMEOUT = 2.0  # seconds of wall clock the simulation's transaction may last
_clock: Callable[[], float] = time.monotonic  # a stopwatch for the deadline (tests replace it)
#: the worker's changed-contacts handlers, in its order (``worker/loop.py``)
CHANGE_HANDLERS = (recompute_traits, reevaluate_contacts, journey_changes)
NOTE = "consent, suppression, frequency caps and quiet hours are applied when a message is sent"
Timeline = list[tuple[datetime, str, dict[str, Any]]]  # (instant, event, properties), in order


@dataclass(frozen=True, slots=True)
class ScriptedEvent:
    at: datetime | timedelta  # an instant, or an offset from the start
    name: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SimulationRequest:
    version: str = "draft"  # or "live"
    contact_id: int | None = None  # a real contact, or …
    contact: dict[str, Any] | None = None  # … a hypothetical profile: fields and traits
    payload: dict[str, Any] | None = None
    trigger_event: dict[str, Any] | None = None  # event triggers: the properties of the event
    events: list[ScriptedEvent] = field(default_factory=list)
    start: datetime | None = None
    until: timedelta = timedelta(days=30)


def simulate(
    engine: Engine,
    workspace_id: int,
    journey_id: int,
    request: SimulationRequest,
    now: datetime,
    *,
    links: Links,
    default_country: str | None = None,
    timeout: float = TIMEOUT,
) -> dict[str, Any]:
    """Run the journey for the contact from ``start`` to ``start + until`` (see the module
    docstring). NotFound: journey, contact; InvalidInput: the request, or
    ``simulation_too_long``; Conflict: no live version."""
    start, timeline = _timeline(request, ensure_utc(now))
    deadline = _clock() + timeout
    conn = engine.connect()
    trans = conn.begin()
    try:
        result, renders = _run(
            conn, workspace_id, journey_id, request, start, timeline, links, default_country, deadline
        )
    finally:
        trans.rollback()
        conn.close()
    for render in renders:  # no transaction open: compiling and rendering take their time
        render()
    return result


def _too_long(what: str) -> InvalidInput:
    return InvalidInput(
        f"the simulation {what}: shorten `until` or check the journey for loops",
        code="simulation_too_long",
    )


def _check_deadline(deadline: float) -> None:
    if _clock() > deadline:
        raise _too_long("took too long")


def _timeline(request: SimulationRequest, now: datetime) -> tuple[datetime, Timeline]:
    if request.version not in ("draft", "live"):
        raise InvalidInput("version must be 'draft' or 'live'", code="invalid_version")
    if (request.contact_id is None) == (request.contact is None):
        raise InvalidInput("give either contact_id or a hypothetical contact", code="invalid_contact")
    if not timedelta(0) < request.until <= MAX_UNTIL:
        raise InvalidInput(f"until: longer than zero, at most {MAX_UNTIL.days} days", code="invalid_until")
    start = ensure_utc(request.start or now)
    if abs(start - now) > timedelta(days=36_500):
        raise InvalidInput("start: within a century of now", code="invalid_start")
    timeline = []
    for i, e in enumerate(request.events):
        offset = e.at if isinstance(e.at, timedelta) else ensure_utc(e.at) - start
        if not timedelta(0) <= offset <= request.until:
            raise InvalidInput(f"events[{i}].at: outside the simulated time", code="event_outside_timeline")
        timeline.append((start + offset, e.name, e.properties))
    return start, sorted(timeline, key=lambda x: x[0])


def _run(
    conn: Connection, ws: int, journey_id: int, request: SimulationRequest, start: datetime,
    timeline: Timeline, links: Links, default_country: str | None, deadline: float,
) -> tuple[dict[str, Any], list[Callable[[], None]]]:  # fmt: skip
    """(the result, the renders of its messages to run once the transaction is over)"""
    row = get_journey(conn, ws, journey_id)
    if request.version == "live" and row["version_id"] is None:
        raise Conflict(f"journey {journey_id} has no published version", code="journey_not_published")
    if request.version == "live" or row["draft"] is None:
        version_id, definition = int(row["version_id"]), VERSIONS.get(conn, row["version_id"])[2]
    else:  # the draft becomes a version for the engine to load, rolled back with the rest
        definition = parse_journey(row["draft"])
        version_id = conn.execute(
            insert(journey_version).values(journey_id=journey_id, workspace_id=ws, number=0,
                                           definition=row["draft"], created_at=start)
            .returning(journey_version.c.id)
        ).scalar_one()  # fmt: skip
    _check_references(conn, ws, definition)  # a template deleted since: 422 here, not mid-run
    # the scheduler and the goal/exit handler see only active journeys, with their live version
    values = {"status": "active", "version_id": version_id}
    conn.execute(update(journey).where(journey.c.id == journey_id).values(values))
    cid, shown = _contact(conn, ws, request, start, default_country)
    _refresh(conn, ws, cid, start)  # its traits and segments, before the entry rules read them
    key = f"simulate:{uuid.uuid4().hex}"
    entered = enroll(conn, ws, journey_id, version_id, definition,
                     [Candidate(cid, key, _payload(request, definition.trigger, start))], start)  # fmt: skip
    result: dict[str, Any] = {
        "journey_id": journey_id, "version": request.version, "contact_id": shown, "start": start,
        "until": start + request.until, "entered": bool(entered), "reason": None, "path": [], "waits": [],
        "messages": [], "final": None, "truncated": False, "notes": [NOTE],
    }  # fmt: skip
    if not entered:
        result["reason"] = _refusal(conn, journey_id, definition.entry, cid, start)
        return result, []
    e = enrollment.c
    eid = conn.execute(select(e.id).where(e.journey_id == journey_id, e.entry_key == key)).scalar_one()
    report = _Report(conn, links, ws, eid, shown or 0, definition.nodes, deadline)
    result["truncated"] = _loop(conn, ws, cid, eid, start, start + request.until, timeline, report)
    end = conn.execute(select(enrollment).where(e.id == eid)).one()
    result.update(path=report.path, waits=report.waits(), messages=report.messages, final={
        "state": end.state, "node": end.node, "exit_reason": end.exit_reason, "resume_at": end.resume_at,
        "ended_at": end.ended_at,
    })  # fmt: skip
    return result, report.renders


def _loop(
    conn: Connection, ws: int, cid: int, eid: int, t: datetime, end: datetime, timeline: Timeline,
    report: _Report,
) -> bool:  # fmt: skip
    """Visit the instants where something happens (a scripted event, the enrollment's timer)
    in order; True when ``MAX_INSTANTS`` cut it short."""
    i, refreshed = 0, t
    conditions = any(isinstance(n, ConditionNode) for n in report.nodes.values())
    for _ in range(MAX_INSTANTS):
        due = []
        while i < len(timeline) and timeline[i][0] <= t:
            at, name, properties = timeline[i]
            due.append(InternalEvent(cid, name, properties, at, f"simulate-{uuid.uuid4().hex}"))
            i += 1
        record_internal(conn, ws, due, t)  # stored like tracked events; the contact is queued
        if conditions and t - refreshed >= TIME_REFRESH:
            _refresh(conn, ws, cid, t)
            refreshed = t
        for _ in range(MAX_PASSES):
            _check_deadline(report.deadline)
            changed = _process(conn, ws, cid, t)
            moved = _advance(conn, eid, t)
            report.collect(t)
            if not (changed or moved):
                break
        e = conn.execute(
            select(enrollment.c.state, enrollment.c.resume_at).where(enrollment.c.id == eid)
        ).one()
        upcoming = [timeline[i][0]] if i < len(timeline) else []
        if e.resume_at is not None and e.resume_at > t:
            upcoming.append(e.resume_at)
        if e.state != ACTIVE or not upcoming or min(upcoming) > end:
            return False
        t = min(upcoming)
    return True


def _contact(
    conn: Connection, ws: int, request: SimulationRequest, start: datetime, default_country: str | None
) -> tuple[int, int | None]:
    """(contact id, id to show): a real contact, or a hypothetical one made here (shown as null)."""
    if request.contact_id is not None:
        cid = live_contact_id(conn, ws, request.contact_id)
        return cid, cid
    profile = dict(request.contact or {})
    tags, lists = profile.pop("tags", []), profile.pop("list_ids", [])
    changes = normalize_profile(profile, default_country, attribute_types(conn, ws))
    traits = {k: v for k, v in changes.traits.items() if v is not None}
    cid = conn.execute(
        insert(contact).values(workspace_id=ws, traits=traits, score=0, created_at=start, updated_at=start,
                               **changes.fields).returning(contact.c.id)
    ).scalar_one()  # fmt: skip
    add_tags(conn, ws, [(cid, tag) for tag in tags], start)
    for list_id in lists:  # the workspace's own static lists (404 / 409 otherwise)
        add_list_members(conn, ws, list_id, [cid], start)
    mark_changed(conn, ws, [cid], start)
    return int(cid), None


def _payload(request: SimulationRequest, trigger: Any, start: datetime) -> dict[str, Any]:
    """What the trigger would have carried into the enrollment, for the templates."""
    payload = request.payload
    if request.trigger_event is not None:
        if not isinstance(trigger, EventTrigger):
            raise InvalidInput("trigger_event needs an event trigger", code="not_an_event_trigger")
        event = {"name": trigger.event, "properties": request.trigger_event, "timestamp": start.isoformat()}
        return {"event": event, "payload": payload or {}}
    if payload is None and isinstance(trigger, SegmentTrigger):
        payload = {"segment_id": trigger.segment_id}
    elif payload is None and isinstance(trigger, TagTrigger):
        payload = {"tag": trigger.tag}
    return {"payload": payload or {}}


def _refusal(conn: Connection, journey_id: int, rules: Any, cid: int, now: datetime) -> str:
    """Which entry rule said no, in the order ``enroll`` applies them."""
    e, m = enrollment.c, segment_membership.c
    mine = select(e.state, func.max(e.entered_at)).where(e.journey_id == journey_id, e.contact_id == cid)
    states = dict(conn.execute(mine.group_by(e.state)).all())
    last = max(states.values(), default=None)
    if ACTIVE in states:
        return "already_in_journey"
    if last is not None and rules.reentry == "never":
        return "reentry_never"
    if last is not None and rules.reentry_after and last > rules.reentry_after.before(now):
        return "reentry_too_soon"
    excluded = select(m.contact_id).where(m.segment_id == rules.exclude_segment_id, m.contact_id == cid)
    if rules.exclude_segment_id is not None and conn.execute(excluded).first():
        return "excluded_segment"
    return "cap_reached" if rules.cap is not None else "refused"


def _process(conn: Connection, ws: int, cid: int, now: datetime) -> bool:
    """``process_changes`` for this contact alone: what changed since it was queued, through
    the worker's handlers, then dequeued. False when it was not queued."""
    q = contact_change.c
    if conn.execute(select(q.contact_id).where(q.contact_id == cid, q.changed_at <= now)).first() is None:
        return False
    batch: ChangeBatch = {ws: what_changed(conn, [cid])}
    for handler in CHANGE_HANDLERS:
        handler(conn, batch, now)
    conn.execute(delete(contact_change).where(q.contact_id == cid, q.changed_at <= now))
    return True


def _refresh(conn: Connection, ws: int, cid: int, now: datetime) -> None:
    """The worker's periodic refreshes (time-dependent traits, then segments) for this
    contact, at their production cadence (``TIME_REFRESH``) of virtual time."""
    batch: ChangeBatch = {ws: {cid: Change(everything=True)}}
    recompute_traits(conn, batch, now)
    reevaluate_contacts(conn, batch, now)


def _advance(conn: Connection, eid: int, now: datetime) -> bool:
    """``run_due`` for one enrollment (the engine's own ``advance``). False if not due."""
    e = enrollment.c
    row = conn.execute(
        select(*journey_engine.CLAIM_COLUMNS).where(e.id == eid, e.state == ACTIVE, e.resume_at <= now)
    ).first()
    if row is None:
        return False
    journey_engine.advance(conn, [journey_engine.enrollment_of(row)], now)
    return True


class _Report:
    """What the simulation saw, read from the open transaction as it goes."""

    def __init__(
        self, conn: Connection, links: Links, ws: int, eid: int, shown: int, nodes: Any, deadline: float
    ) -> None:
        self.conn, self.links, self.ws, self.eid, self.shown, self.nodes = conn, links, ws, eid, shown, nodes
        self.deadline = deadline
        self.path: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.renders: list[Callable[[], None]] = []  # run after the rollback
        self.timers: dict[tuple[str, datetime], tuple[datetime | None, str | None]] = {}
        self.last_step = 0

    def collect(self, now: datetime) -> None:
        """The enrollment's new steps (rendering the messages they queued, as the dispatcher
        would right away) and the timer of a wait it began (the wake-up of an event changes it)."""
        s = journey_step.c
        new = select(s.id, s.node, s.outcome, s.detail, s.at).where(
            s.enrollment_id == self.eid, s.id > self.last_step
        )
        for r in self.conn.execute(new.order_by(s.id)):
            self.last_step = r.id
            node = self.nodes.get(r.node)
            step = {"at": r.at, "node": r.node, "type": node.type if node else None, "outcome": r.outcome}
            if (r.detail or {}).get("message_id") is not None:
                step["message"] = len(self.messages)
                self.messages.append(self._render(int(r.detail["message_id"]), r.node, now))
            self.path.append(step)
            if len(self.path) > MAX_STEPS:
                raise _too_long(f"passed more than {MAX_STEPS:,} nodes")
        e = self.conn.execute(select(enrollment).where(enrollment.c.id == self.eid)).one()
        if e.state == ACTIVE and e.phase == WAIT:
            self.timers.setdefault((e.node, e.node_at), (e.resume_at, e.wait_event))

    def _render(self, message_id: int, node: str, now: datetime) -> dict[str, Any]:
        """Render as the dispatcher does, with a preview's links (message 0): the ids made here
        are rolled back and may later belong to real messages. What the render needs is read
        now; the render itself is queued in ``renders``, for after the transaction."""
        m = self.conn.execute(select(message).where(message.c.id == message_id)).mappings().one()
        data, channel = m["data"] or {}, m["channel"]
        view = load_contacts(self.conn, [m["contact_id"]])[m["contact_id"]]
        to = data.get("to") or {"email": view.get("email"), "sms": view.get("phone")}.get(channel)
        missing = not to and channel in ("email", "sms")
        out: dict[str, Any] = {
            "node": node, "at": now, "channel": channel, "template_id": m["template_id"],
            "topic_id": m["topic_id"], "transactional": m["transactional"], "status": "would_send", "to": to,
            "content": None, "error": None,
            "warning": f"the contact has no {channel} address: it would be skipped" if missing else None,
        }  # fmt: skip
        fields = data.get("content") or {}
        if m["template_id"] is not None:
            t = template.c
            channel, fields = self.conn.execute(
                select(t.channel, t.fields).where(t.id == m["template_id"])
            ).one()
        links = {"unsubscribe_url": self.links.unsubscribe_url(0),
                 "preferences_url": self.links.preferences_url(self.ws, self.shown)}  # fmt: skip
        ctx = context(view, data, 0, links)
        marketing = not m["transactional"]

        def render() -> None:
            # as a preview renders: links as written and no open pixel, so showing the message
            # calls no tracking route (message 0's token is no real message's)
            try:
                out["content"] = render_content(
                    compile_template(channel, fields), channel, ctx, message_id=0, links=self.links,
                    tracking=Tracking(opens=False, clicks=False), seen_links={}, marketing=marketing,
                    now=now,
                )  # fmt: skip
            except KairosError as exc:
                out["error"] = exc.message

        self.renders.append(render)
        return out

    def waits(self) -> list[dict[str, Any]]:
        """Each wait: when it began, when its timer was due, when and how it ended."""
        out = []
        for i, step in enumerate(self.path):
            if step["outcome"] == "waiting":
                until, event = self.timers.get((step["node"], step["at"]), (None, None))
                end = next((s for s in self.path[i + 1 :] if s["node"] == step["node"]), {})
                out.append({"node": step["node"], "type": step["type"], "from": step["at"], "until": until,
                            "event": event, "ended_at": end.get("at"),
                            "outcome": end.get("outcome")})  # fmt: skip
        return out
