"""The dispatcher: claims due outbox rows, applies policy, renders, sends, records.

One pass (``run``) handles one batch in three short transactions with the slow parts
between them, so neither rendering nor the provider's network round trips ever hold the
database (on SQLite, its single write lock):

1. **claim** — take due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers
   share the queue), resolve each recipient's address, and apply policy *now*, at send
   time: suppression, consent, quiet hours, frequency caps, paused channels and provider
   rate limits. What may go is marked ``sending`` and committed.
2. **render** (no transaction) — compiled templates are cached; the new tracked URLs of the
   batch are stored in one short transaction before anything leaves.
3. **send** (no transaction) — one ``Channel.send`` per provider configuration.
4. **record** — sent, retried with backoff, failed, bounced (address suppressed), or, when
   the provider is down, put back without spending an attempt while the channel pauses.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Text,
    and_,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from kairos import metrics
from kairos.clock import Clock
from kairos.crypto import Keyring
from kairos.db.dialect import FastStatement, time_converter
from kairos.errors import InvalidInput
from kairos.messaging import outbox
from kairos.messaging.channels import (
    Channel,
    ChannelOptions,
    Outgoing,
    SendResult,
    clean_error,
    load_providers,
)
from kairos.messaging.consent import blocked_by_consent, normalize_address, suppress, suppressed
from kairos.messaging.policy import MessagingPolicy, get_policy, over_cap, quiet_until, zone
from kairos.messaging.render import TemplateCache, Tracking, context, load_recipients, render_content
from kairos.messaging.tables import channel_config, inbox_message, message, template
from kairos.messaging.templates import compile_template
from kairos.messaging.tracking import Links, Outcome, record, register_links
from kairos.workspaces.clocks import EVERY, Scope

log = logging.getLogger(__name__)

PAUSE_MIN = timedelta(seconds=30)
PAUSE_MAX = timedelta(minutes=10)


@dataclass(slots=True)
class _Claimed:
    id: int
    workspace_id: int
    contact_id: int
    channel: str
    config_id: int
    template_id: int | None
    topic_id: int | None
    transactional: bool
    source: str
    data: dict[str, Any]
    address: str
    attempts: int
    content: dict[str, Any] | None = None


@dataclass(slots=True)
class _Bucket:
    """A provider rate limit as a token bucket, refilled by the (injected) clock."""

    rate: float
    tokens: float
    at: datetime

    def take(self, now: datetime) -> float:
        """Seconds to wait before the next message may go (0: it may go now)."""
        self.tokens = min(self.rate, self.tokens + (now - self.at).total_seconds() * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Dispatcher:
    engine: Engine
    clock: Clock
    keyring: Keyring
    base_url: str
    options: ChannelOptions = field(default_factory=ChannelOptions)
    batch_size: int = 500
    unsubscribe_mailbox: str | None = None
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.links = Links(self.keyring, self.base_url)
        self._channels: dict[int, tuple[datetime, Channel]] = {}
        self._templates = TemplateCache()
        self._known_links: set[tuple[int, bytes]] = set()
        self._buckets: dict[int, _Bucket] = {}
        #: seconds spent per phase since start (benchmarks, logs)
        self.timings: dict[str, float] = {"claim": 0.0, "render": 0.0, "send": 0.0, "record": 0.0}

    # --- the pass ---------------------------------------------------------------------

    def run(self, now: datetime | None = None, scope: Scope = EVERY) -> int:
        """One batch of ``scope``'s due messages; returns how many changed state (0: nothing
        was due)."""
        now = now or self.clock.now()
        t0 = time.perf_counter()
        with self.engine.begin() as conn:
            claimed, settled, configs, views, templates, policies = self._claim(conn, now, scope)
        t1 = time.perf_counter()
        self.timings["claim"] += t1 - t0
        if not claimed:
            return int(settled)
        failures = self._render(claimed, configs, views, templates, policies, now)
        t2 = time.perf_counter()
        sendable = [c for c in claimed if c.content is not None]
        results = self._send(sendable, configs)
        t3 = time.perf_counter()
        with self.engine.begin() as conn:
            self._record(conn, sendable, results, failures, configs, now)
        metrics.count_sends(claimed, results, failures)  # after the commit: what was recorded
        t4 = time.perf_counter()
        for phase, seconds in (("render", t2 - t1), ("send", t3 - t2), ("record", t4 - t3)):
            self.timings[phase] += seconds
        return int(settled) + len(claimed)

    def close(self) -> None:
        for _, channel in self._channels.values():
            try:
                channel.close()
            except Exception:
                log.exception("closing a channel failed")
        self._channels.clear()

    # --- 1. claim ---------------------------------------------------------------------

    def _claim(self, conn: Connection, now: datetime, scope: Scope) -> Any:
        rows = outbox.lock_due(conn, now, scope.clause(message.c.workspace_id), self.batch_size)
        if not rows:
            return [], 0, {}, {}, {}, {}
        workspaces = {r["workspace_id"] for r in rows}
        configs = {
            r["id"]: r
            for r in conn.execute(
                select(channel_config).where(channel_config.c.workspace_id.in_(workspaces))
            ).mappings()
        }
        defaults = {(r["workspace_id"], r["kind"]): r["id"] for r in configs.values() if r["is_default"]}
        policies = {ws: get_policy(conn, ws) for ws in workspaces}
        survivors, views = load_recipients(conn, list({r["contact_id"] for r in rows}))

        skip: dict[int, tuple[str, str | None]] = {}  # message id → (reason, detail)
        fail: dict[int, tuple[str, str]] = {}
        defer: dict[int, tuple[datetime, str]] = {}
        candidates: list[_Claimed] = []
        for r in rows:
            mid = r["id"]
            cid = survivors.get(r["contact_id"])
            view = views.get(cid) if cid is not None else None
            config_id = r["channel_config_id"] or defaults.get((r["workspace_id"], r["channel"]))
            config = configs.get(config_id) if config_id is not None else None
            if view is None or cid is None:
                skip[mid] = ("contact_deleted", None)
            elif (
                config is None
                or config["kind"] != r["channel"]
                or config["workspace_id"] != r["workspace_id"]
            ):
                # a message only ever goes through a channel of its own workspace: the API
                # refuses foreign channel ids, and this holds even if a row slipped past it
                fail[mid] = ("no_channel", f"no {r['channel']} channel is configured")
            elif config["paused_until"] is not None and config["paused_until"] > now:
                defer[mid] = (config["paused_until"], "channel_paused")
            else:
                address = _address(r["channel"], view, r["data"] or {}, config["settings"])
                if not address:
                    skip[mid] = ("no_address", f"the contact has no {r['channel']} address")
                    continue
                candidates.append(
                    _Claimed(
                        id=mid, workspace_id=r["workspace_id"], contact_id=cid, channel=r["channel"],
                        config_id=config["id"], template_id=r["template_id"], topic_id=r["topic_id"],
                        transactional=r["transactional"], source=r["source"], data=r["data"] or {},
                        address=address, attempts=r["attempts"],
                    )
                )  # fmt: skip
        candidates = self._apply_policy(conn, candidates, policies, views, configs, now, skip, defer)
        template_ids = {c.template_id for c in candidates if c.template_id is not None}
        templates = {
            t["id"]: t
            for t in conn.execute(select(template).where(template.c.id.in_(template_ids))).mappings()
        }
        for c in candidates:  # the same for templates: never render another workspace's
            t = templates.get(c.template_id) if c.template_id is not None else None
            if t is not None and t["workspace_id"] != c.workspace_id:
                fail[c.id] = ("no_template", f"no template {c.template_id}")
        candidates = [c for c in candidates if c.id not in fail]
        self._write_claim(conn, candidates, skip, fail, defer, now)
        return candidates, len(skip) + len(fail) + len(defer), configs, views, templates, policies

    def _apply_policy(
        self,
        conn: Connection,
        candidates: list[_Claimed],
        policies: dict[int, MessagingPolicy],
        views: dict[int, dict[str, Any]],
        configs: dict[int, Any],
        now: datetime,
        skip: dict[int, tuple[str, str | None]],
        defer: dict[int, tuple[datetime, str]],
    ) -> list[_Claimed]:
        by_ws: dict[int, list[_Claimed]] = defaultdict(list)
        for c in candidates:
            by_ws[c.workspace_id].append(c)
        allowed: list[_Claimed] = []
        for ws, items in by_ws.items():
            policy = policies[ws]
            blocked = suppressed(
                conn, ws, {(c.channel, normalize_address(c.channel, c.address)) for c in items}
            )
            for c in items:
                if (c.channel, normalize_address(c.channel, c.address)) in blocked:
                    skip[c.id] = ("suppressed", None)
            items = [c for c in items if c.id not in skip]
            marketing = [c for c in items if not c.transactional]
            refused = blocked_by_consent(conn, [(c.contact_id, c.channel, c.topic_id) for c in marketing])
            for i, reason in refused.items():
                skip[marketing[i].id] = (reason, None)
            quiet = policy.quiet_hours
            if quiet is not None:
                for c in marketing:
                    if c.id in skip or c.channel not in quiet.channels:
                        continue
                    until = quiet_until(
                        quiet, now, zone(views[c.contact_id].get("timezone"), policy.timezone)
                    )
                    if until is not None:
                        defer[c.id] = (until, "quiet_hours")
            still = [c for c in marketing if c.id not in skip and c.id not in defer]
            capped = over_cap(conn, policy.frequency_caps, [(c.contact_id, c.channel) for c in still], now)
            for i, detail in capped.items():
                skip[still[i].id] = ("frequency_cap", detail)
            for c in items:
                if c.id in skip or c.id in defer:
                    continue
                rate = configs[c.config_id]["rate_limit"]
                if rate:
                    bucket = self._buckets.get(c.config_id)
                    if bucket is None or bucket.rate != rate:
                        bucket = self._buckets[c.config_id] = _Bucket(rate, rate, now)
                    wait = bucket.take(now)
                    if wait > 0:
                        defer[c.id] = (now + timedelta(seconds=wait), "rate_limited")
                        continue
                allowed.append(c)
        return allowed

    def _write_claim(
        self,
        conn: Connection,
        claimed: list[_Claimed],
        skip: dict[int, tuple[str, str | None]],
        fail: dict[int, tuple[str, str]],
        defer: dict[int, tuple[datetime, str]],
        now: datetime,
    ) -> None:
        m = message.c
        if claimed and conn.dialect.name == "postgresql":
            conn.execute(_PG_MARK_SENDING, {
                "now": now, "mids": [c.id for c in claimed], "addrs": [c.address for c in claimed],
                "cids": [c.contact_id for c in claimed], "cfgs": [c.config_id for c in claimed],
            })  # fmt: skip
        elif claimed:
            t = time_converter(conn)(now)
            _MARK_SENDING.execute(conn, [(t, c.address, c.contact_id, c.config_id, c.id) for c in claimed])
        _settle(conn, skip, outbox.SKIPPED, now)
        _settle(conn, fail, outbox.FAILED, now)
        if defer:
            conn.execute(
                update(message)
                .where(m.id == bindparam("mid"))
                .values(
                    status=outbox.QUEUED,
                    next_attempt_at=bindparam("at"),
                    reason=bindparam("why"),
                    updated_at=now,
                ),
                [{"mid": k, "at": at, "why": why} for k, (at, why) in defer.items()],
            )

    # --- 2. render --------------------------------------------------------------------

    def _render(
        self,
        claimed: list[_Claimed],
        configs: dict[int, Any],
        views: dict[int, dict[str, Any]],
        templates: dict[int, Any],
        policies: dict[int, MessagingPolicy],
        now: datetime,
    ) -> dict[int, str]:
        """Render every claimed message; returns {message id: error} for those that failed."""
        failures: dict[int, str] = {}
        new_links: dict[int, dict[bytes, str]] = defaultdict(dict)
        for c in claimed:
            seen: dict[bytes, str] = {}
            try:
                compiled = self._compiled(c, templates)
                internal = c.source in outbox.INTERNAL_SOURCES
                if internal:  # to the sales owner: never the lead's consent links or tracking
                    links = {"unsubscribe_url": "", "preferences_url": ""}
                else:
                    links = {
                        "unsubscribe_url": self.links.unsubscribe_url(c.id),
                        "preferences_url": self.links.preferences_url(c.workspace_id, c.contact_id),
                    }
                if c.source == "double_opt_in" and "confirm_topic_id" in c.data:
                    links["confirm_url"] = self.links.confirm_url(
                        c.contact_id, int(c.data["confirm_topic_id"])
                    )
                if self.unsubscribe_mailbox and not internal:
                    links["unsubscribe_mailto"] = self.unsubscribe_mailbox
                ctx = context(views[c.contact_id], c.data, c.id, links)
                content = render_content(
                    compiled, c.channel, ctx, message_id=c.id, links=self.links,
                    tracking=Tracking(opens=False, clicks=False) if internal else Tracking(),
                    seen_links=seen, marketing=not (c.transactional or internal), now=now,
                )  # fmt: skip
            except InvalidInput as exc:
                failures[c.id] = exc.message
                continue
            if c.source == "test" and c.channel == "email":
                content["subject"] = "[Test] " + content.get("subject", "")
            c.content = content
            for digest, url in seen.items():
                if (c.workspace_id, digest) not in self._known_links:
                    new_links[c.workspace_id][digest] = url
        if new_links:
            with self.engine.begin() as conn:
                for ws, urls in new_links.items():
                    register_links(conn, ws, urls, now)
            for ws, urls in new_links.items():
                self._known_links.update((ws, d) for d in urls)
            if len(self._known_links) > 100_000:
                self._known_links.clear()
        return failures

    def _compiled(self, c: _Claimed, templates: dict[int, Any]) -> Any:
        if c.template_id is not None:
            t = templates.get(c.template_id)
            if t is None:
                raise InvalidInput(f"template {c.template_id} no longer exists", code="template_not_found")
            return self._templates.get(t["id"], t["version"], t["channel"], t["fields"])
        inline = c.data.get("content")
        if not isinstance(inline, dict):
            raise InvalidInput("the message has neither a template nor content", code="no_content")
        return compile_template(c.channel, inline)

    # --- 3. send ----------------------------------------------------------------------

    def _channel(self, config: Any) -> Channel:
        cached = self._channels.get(config["id"])
        if cached is not None and cached[0] == config["updated_at"]:
            return cached[1]
        if cached is not None:
            cached[1].close()
        provider = load_providers()[config["provider"]]
        secrets = self.keyring.decrypt(config["secrets"]) if config["secrets"] else {}
        channel = provider.factory(
            provider.settings_model.model_validate(config["settings"]),
            provider.secrets_model.model_validate(secrets),
            self.options,
        )
        self._channels[config["id"]] = (config["updated_at"], channel)
        return channel

    def _send(self, batch: list[_Claimed], configs: dict[int, Any]) -> dict[int, SendResult]:
        by_config: dict[int, list[_Claimed]] = defaultdict(list)
        for c in batch:
            by_config[c.config_id].append(c)
        results: dict[int, SendResult] = {}
        for config_id, items in by_config.items():
            outgoing = [
                Outgoing(message_id=c.id, key=f"kairos-{c.id}", to=c.address, content=c.content or {},
                         contact_id=c.contact_id, workspace_id=c.workspace_id)
                for c in items
            ]  # fmt: skip
            try:
                answers: Sequence[SendResult] = self._channel(configs[config_id]).send(outgoing)
            except Exception as exc:  # a provider bug must not lose the batch: retry it
                log.exception("channel %s failed on a batch", config_id)
                answers = [SendResult(o.message_id, "retry", error=f"adapter error: {exc}") for o in outgoing]
            for answer in answers:
                results[answer.message_id] = answer
        return results

    # --- 4. record --------------------------------------------------------------------

    def _record(
        self,
        conn: Connection,
        batch: list[_Claimed],
        results: dict[int, SendResult],
        failures: dict[int, str],
        configs: dict[int, Any],
        now: datetime,
    ) -> None:
        m = message.c
        sent: list[dict[str, Any]] = []
        retry: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        bounced: list[dict[str, Any]] = []
        inbox: list[dict[str, Any]] = []
        outcomes: list[Outcome] = []
        outage: dict[int, str] = {}
        healthy: set[int] = set()
        for mid, why in failures.items():
            failed.append({"mid": mid, "why": "template_error", "err": why})
        for c in batch:
            r = results.get(c.id) or SendResult(c.id, "retry", error="the provider gave no answer")
            # what is stored (message.error, the channel's pause_reason, the suppression's
            # detail) is a short status line, whatever an adapter returned
            error: str | None = clean_error(r.error) if r.error is not None else None
            if r.status == "sent":
                healthy.add(c.config_id)
                sent.append({"mid": c.id, "pid": r.provider_id})
                if c.channel == "inapp":
                    content = c.content or {}
                    inbox.append(
                        {"workspace_id": c.workspace_id, "contact_id": c.contact_id, "message_id": c.id,
                         "title": content.get("title"), "body": content.get("body"),
                         "data": content.get("data"), "created_at": now}
                    )  # fmt: skip
                    outcomes.append(Outcome(c.id, "delivered"))
            elif r.status == "retry" and r.outage:
                outage[c.config_id] = error or "provider unavailable"
                retry.append({"mid": c.id, "at": now, "err": error, "spent": 0, "cfg": c.config_id})
            elif r.status == "retry":
                if c.attempts + 1 >= outbox.MAX_ATTEMPTS:
                    failed.append({"mid": c.id, "why": "retries_exhausted", "err": error})
                    continue
                delay = outbox.backoff(c.attempts + 1, self.rng.random())
                if r.retry_after is not None:
                    delay = max(delay, timedelta(seconds=r.retry_after))
                retry.append({"mid": c.id, "at": now + delay, "err": error, "spent": 1, "cfg": None})
            elif r.status == "bounced":
                bounced.append({"mid": c.id, "err": error})
                address = normalize_address(c.channel, c.address)
                owner = None if c.source in outbox.NOT_THE_CONTACTS else c.contact_id  # not theirs
                suppress(conn, c.workspace_id, c.channel, address, "hard_bounce", now, detail=error,
                         contact_id=owner)  # fmt: skip
                outcomes.append(Outcome(c.id, "bounced", {"error": error}))
            else:
                failed.append({"mid": c.id, "why": "provider_rejected", "err": error})
        if sent and conn.dialect.name == "postgresql":
            conn.execute(
                _PG_MARK_SENT,
                {"now": now, "mids": [row["mid"] for row in sent], "pids": [row["pid"] for row in sent]},
            )
        elif sent:
            t = time_converter(conn)(now)
            _MARK_SENT.execute(conn, [(t, row["pid"], row["mid"]) for row in sent])
        pauses = {cfg: self._pause(conn, configs[cfg], reason, now) for cfg, reason in outage.items()}
        for row in retry:
            if row["cfg"] is not None:
                row["at"] = pauses[row["cfg"]]
        if retry:
            conn.execute(
                update(message)
                .where(m.id == bindparam("mid"))
                .values(status=outbox.QUEUED, next_attempt_at=bindparam("at"), error=bindparam("err"),
                        attempts=m.attempts - 1 + bindparam("spent"), reason="retry", updated_at=now),
                [{k: v for k, v in row.items() if k != "cfg"} for row in retry],
            )  # fmt: skip
        if failed:
            conn.execute(
                update(message)
                .where(m.id == bindparam("mid"))
                .values(
                    status=outbox.FAILED, reason=bindparam("why"), error=bindparam("err"), updated_at=now
                ),
                failed,
            )
        if bounced:
            conn.execute(
                update(message)
                .where(m.id == bindparam("mid"))
                .values(status=outbox.BOUNCED, reason="bounced", error=bindparam("err"), updated_at=now),
                bounced,
            )
        if inbox:
            conn.execute(insert(inbox_message), inbox)
        for cfg in healthy - set(outage):
            if configs[cfg]["failures"]:
                conn.execute(
                    update(channel_config)
                    .where(channel_config.c.id == cfg)
                    .values(failures=0, paused_until=None, pause_reason=None)
                )
        record(conn, outcomes, now)

    def _pause(self, conn: Connection, config: Any, reason: str, now: datetime) -> datetime:
        failures = int(config["failures"] or 0) + 1
        until: datetime = now + min(PAUSE_MIN * (2 ** (failures - 1)), PAUSE_MAX)
        conn.execute(
            update(channel_config)
            .where(channel_config.c.id == config["id"])
            .values(paused_until=until, pause_reason=clean_error(reason), failures=failures)
        )
        log.warning("channel %s paused until %s: %s", config["id"], until.isoformat(), reason)
        return until


# The two updates every message goes through, sent straight to the driver (``FastStatement``):
# SQLAlchemy's per-row parameter processing cost more than the updates themselves. Constants
# are literal columns (fixed strings of ours) so that only the named parameters are bound.
_MARK_SENDING = FastStatement(
    lambda _conn: update(message)
    .where(message.c.id == bindparam("mid"))
    .values(
        status=literal_column(f"'{outbox.SENDING}'"), attempts=message.c.attempts + literal_column("1"),
        claimed_at=bindparam("now"),
        address=bindparam("addr"), contact_id=bindparam("cid"), channel_config_id=bindparam("cfg"),
        updated_at=bindparam("now"),
    ),
    ("now", "addr", "cid", "cfg", "mid"),
)  # fmt: skip
_MARK_SENT = FastStatement(
    lambda _conn: update(message)
    .where(message.c.id == bindparam("mid"))
    .values(
        status=literal_column(f"'{outbox.SENT}'"), sent_at=bindparam("now"), provider_id=bindparam("pid"),
        reason=null(), error=null(),
        updated_at=bindparam("now"),
    ),
    ("now", "pid", "mid"),
)  # fmt: skip


# PostgreSQL: the same two updates as one statement per batch, the rows as arrays
# (``UPDATE … FROM unnest(…)``): one round trip and one plan instead of one execution per row.
# ``id = ANY(mids)`` as well as the join: without it PostgreSQL hashed the whole table
# (a sequential scan of every message, 30 to 60 ms at 50,000) to join 500 rows.
def _rows(**columns: Any) -> Any:
    return (
        func.unnest(*(bindparam(name, type_=ARRAY(kind)) for name, kind in columns.items()))
        .table_valued(*columns)
        .render_derived()
    )


def _by_ids(rows: Any) -> Any:
    return and_(message.c.id == rows.c.mids, message.c.id == any_(bindparam("mids", type_=ARRAY(BigInteger))))


_sending = _rows(mids=BigInteger, addrs=Text, cids=BigInteger, cfgs=BigInteger)
_PG_MARK_SENDING = (
    update(message)
    .where(_by_ids(_sending))
    .values(
        status=literal_column(f"'{outbox.SENDING}'"), attempts=message.c.attempts + literal_column("1"),
        claimed_at=bindparam("now"), address=_sending.c.addrs, contact_id=_sending.c.cids,
        channel_config_id=_sending.c.cfgs, updated_at=bindparam("now"),
    )
)  # fmt: skip
_sent = _rows(mids=BigInteger, pids=Text)
_PG_MARK_SENT = (
    update(message)
    .where(_by_ids(_sent))
    .values(
        status=literal_column(f"'{outbox.SENT}'"), sent_at=bindparam("now"), provider_id=_sent.c.pids,
        reason=null(), error=null(), updated_at=bindparam("now"),
    )
)  # fmt: skip


def _settle(conn: Connection, rows: dict[int, Any], status: str, now: datetime) -> None:
    if rows:
        conn.execute(
            update(message)
            .where(message.c.id == bindparam("mid"))
            .values(status=status, reason=bindparam("why"), error=bindparam("err"), updated_at=now),
            [{"mid": k, "why": why, "err": detail} for k, (why, detail) in rows.items()],
        )


def _address(
    channel: str, view: dict[str, Any], data: dict[str, Any], settings: dict[str, Any]
) -> str | None:
    """Where a message goes: an explicit ``to`` in the message, else the contact's address on
    that channel (push tokens and WeChat openids are the traits ``push_token`` and
    ``wechat_openid``), else for webhooks the channel's URL."""
    to = data.get("to")
    if isinstance(to, str) and to:
        return to
    if channel == "email":
        return view.get("email")
    if channel == "sms":
        return view.get("phone")
    if channel == "push":
        token = view.get("traits", {}).get("push_token")
        return token if isinstance(token, str) else None
    if channel == "wechat":
        openid = view.get("traits", {}).get("wechat_openid")
        return openid if isinstance(openid, str) else None
    if channel == "webhook":
        url = settings.get("url")
        return url if isinstance(url, str) else None
    return str(view["id"])  # inapp: the contact's own inbox
