"""B6: a broadcast of personalised emails (Liquid + MJML, tracked links, open pixel) over
SMTP to a local sink — messages/s and the peak RSS of the process that sends.

Three processes, so each figure is measured where it belongs:

- this one prepares a fresh database (contacts, template, SMTP channel) and queues the
  broadcast through the outbox (``enqueue``, timed as ``enqueue_per_s``);
- the SMTP sink (``kairos_bench.smtp_sink``) in its own process, or a real MTA given with
  ``--smtp host:port`` (e.g. Postfix from ``scripts/postfix.sh``, relaying to a sink);
- the senders: ``--workers`` fresh Python processes, each running the production
  ``Dispatcher`` until the queue is empty — several workers sharing one outbox is how Kairos
  scales (claims are short transactions: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write
  lock on SQLite). Each reports its own send window and peak RSS (``ru_maxrss``); the rate is
  all messages over the span from the first sender's start to the last one's end, so neither
  data preparation nor interpreter start-up is counted. ``peak_rss_mb`` is the largest
  sender's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kairos_bench.common import BenchError, cpu_seconds, cpus, database_url_or_default, free_port, workdir

NEWSLETTER = """<mjml>
  <mj-head>
    <mj-title>Weekly picks</mj-title>
    <mj-preview>New this week, picked for {{ contact.first_name }}</mj-preview>
    <mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /></mj-attributes>
    <mj-style inline="inline">.price { color: #c0392b; font-weight: bold; }</mj-style>
  </mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-image width="120px" src="https://shop.example/logo.png" href="https://shop.example/" />
        <mj-text font-size="20px">Hello {{ contact.first_name | default: "there" }},</mj-text>
        <mj-text>Here is what is new in {{ contact.city | default: "your city" }} this week.
          You have {{ contact.points | default: 0 }} points to spend.</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-image src="https://cdn.shop.example/p/1001.jpg" />
        <mj-text>Trail running shoes</mj-text><mj-text css-class="price">$89</mj-text>
        <mj-button href="https://shop.example/p/1001?src=mail">Buy now</mj-button>
      </mj-column>
      <mj-column>
        <mj-image src="https://cdn.shop.example/p/2002.jpg" />
        <mj-text>Rain jacket</mj-text><mj-text css-class="price">$129</mj-text>
        <mj-button href="https://shop.example/p/2002?src=mail">Buy now</mj-button>
      </mj-column>
      <mj-column>
        <mj-image src="https://cdn.shop.example/p/3003.jpg" />
        <mj-text>Water bottle</mj-text><mj-text css-class="price">$19</mj-text>
        <mj-button href="https://shop.example/p/3003?src=mail">Buy now</mj-button>
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-text font-size="11px" color="#888888">You receive this as {{ contact.email }}.
          <a href="https://shop.example/account">Your account</a> ·
          <a href="{{ links.preferences_url }}">Preferences</a> ·
          <a href="{{ links.unsubscribe_url }}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""

CITIES = ["Paris", "Shanghai", "Austin", "Lagos", "Berlin", "São Paulo", "Osaka", "Toronto"]


@dataclass
class Options:
    messages: int = 100_000
    batch: int = 500
    smtp: str | None = None  # host:port of a real MTA; default: our sink in its own process
    connections: int = 1
    workers: int = 2


def run_send(options: Options, *, database_url: str | None, keep: bool, say: Any) -> dict[str, Any]:
    from kairos.clock import SystemClock
    from kairos.config import Settings
    from kairos.db.engine import make_engine
    from kairos.db.migrate import upgrade

    with workdir(keep) as tmp:
        url = database_url_or_default(database_url, tmp)
        settings = Settings(database_url=url, secret_key="bench-secret-key", _env_file=None)  # type: ignore[call-arg]
        engine = make_engine(settings)
        upgrade(engine)
        sink_proc = None
        if options.smtp is None:
            port = free_port()
            sink_proc = subprocess.Popen(
                [sys.executable, "-m", "kairos_bench.smtp_sink", "--port", str(port)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert sink_proc.stdout is not None
            sink_proc.stdout.readline()  # "host:port" once listening
            host = "127.0.0.1"
        else:
            host, _, port_text = options.smtp.rpartition(":")
            port = int(port_text)
        try:
            say(f"preparing {options.messages:,} contacts …")
            workspace_id = _prepare(engine, options, host, port)
            clock = SystemClock()
            say("queueing the broadcast …")
            t0 = time.perf_counter()
            _enqueue(engine, workspace_id, options.messages, clock.now())
            enqueue_s = time.perf_counter() - t0
            engine.dispose()
            say(f"sending with {options.workers} worker process(es) …")
            sent = _senders(url, options)
        finally:
            received = None
            sink_cpu = None
            if sink_proc is not None:
                sink_cpu = cpu_seconds(sink_proc.pid)
                sink_proc.send_signal(signal.SIGTERM)
                _, err = sink_proc.communicate(timeout=30)
                received = _sink_count(err)
    figures: dict[str, Any] = {
        "messages_per_s": round(sent["sent"] / sent["seconds"], 1) if sent["seconds"] else 0,
        "peak_rss_mb": sent["peak_rss_mb"],
        "messages": options.messages,
        "workers": options.workers,
        "sent": sent["sent"],
        "received_by_sink": received,
        "seconds": round(sent["seconds"], 2),
        "enqueue_per_s": round(options.messages / enqueue_s, 1),
        "phases_s": sent["phases_s"],
        "sender_cpu_us_per_msg": round(sent["cpu_s"] / max(sent["sent"], 1) * 1e6, 1),
        "sink_cpu_us_per_msg": round(sink_cpu / options.messages * 1e6, 1) if sink_cpu is not None else None,
        "smtp": options.smtp or "kairos_bench.smtp_sink",
        "database": url.split(":", 1)[0],
        "contacts": options.messages,
        "events": 0,
        "cpus": cpus(),
    }
    if sent["sent"] != options.messages or (received is not None and received != options.messages):
        raise BenchError(f"not every message arrived: {figures}")
    return figures


def _senders(url: str, options: Options) -> dict[str, Any]:
    """Start the sender processes together (each waits for a go file) and combine their figures."""
    go = Path(tempfile.mkdtemp(prefix="kairos-send-")) / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kairos_bench.send", "--dispatch", url, "--batch", str(options.batch),
             "--go", str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(options.workers)
    ]  # fmt: skip
    time.sleep(1.0)  # let the interpreters start and import; the go file starts the clock
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise BenchError(f"a sender failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    start = min(r["started"] for r in results)
    end = max(r["ended"] for r in results)
    phases: dict[str, float] = {}
    for r in results:
        for k, v in r["phases_s"].items():
            phases[k] = round(phases.get(k, 0.0) + v, 2)
    return {
        "sent": sum(r["sent"] for r in results),
        "seconds": end - start,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "cpu_s": sum(r["cpu_s"] for r in results),
        "phases_s": phases,
    }


def _sink_count(stderr: str) -> int | None:
    for line in reversed(stderr.strip().splitlines()):
        if line.startswith("{"):
            return int(json.loads(line)["messages"])
    return None


def _prepare(engine: Any, options: Options, host: str, port: int) -> int:
    from sqlalchemy import insert

    from kairos.clock import SystemClock
    from kairos.contacts.tables import contact
    from kairos.crypto import Keyring
    from kairos.messaging.service import create_channel, create_template
    from kairos.workspaces.service import create_workspace

    now = SystemClock().now()
    with engine.begin() as conn:
        ws = create_workspace(conn, SystemClock(), "bench-send").id
        create_channel(
            conn,
            ws,
            Keyring("bench-secret-key"),
            now,
            name="mail",
            provider_name="smtp",
            settings={
                "host": host,
                "port": port,
                "security": "none",
                "from_email": "news@shop.example",
                "from_name": "Shop",
                "connections": options.connections,
            },
            secrets={},
            is_default=True,
            rate_limit=None,
            allow_private=True,  # the SMTP sink is local
        )
        create_template(
            conn,
            ws,
            now,
            name="weekly",
            channel="email",
            fields={
                "subject": "{{ contact.first_name }}, your weekly picks",
                "format": "mjml",
                "body": NEWSLETTER,
            },
        )
        rows = [
            {
                "workspace_id": ws,
                "external_id": f"u{i}",
                "email": f"user{i}@example.com",
                "first_name": f"Name{i}",
                "last_name": "Bench",
                "timezone": "UTC",
                "score": 0,
                "traits": {"city": CITIES[i % len(CITIES)], "points": i % 5000},
                "created_at": now,
                "updated_at": now,
            }
            for i in range(options.messages)
        ]
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(contact), rows[start : start + 10_000])
    return int(ws)


def _enqueue(engine: Any, workspace_id: int, count: int, now: Any) -> None:
    from sqlalchemy import select

    from kairos.contacts.tables import contact
    from kairos.messaging import outbox
    from kairos.messaging.tables import template

    with engine.begin() as conn:
        tid = conn.execute(select(template.c.id).where(template.c.workspace_id == workspace_id)).scalar_one()
        ids = list(conn.execute(select(contact.c.id).where(contact.c.workspace_id == workspace_id)).scalars())
        for start in range(0, len(ids), 10_000):
            outbox.enqueue(
                conn,
                workspace_id,
                [
                    outbox.NewMessage(
                        contact_id=cid,
                        channel="email",
                        source="broadcast",
                        template_id=tid,
                        idempotency_key=f"bench:{cid}",
                        source_id="bench",
                    )
                    for cid in ids[start : start + 10_000]
                ],
                now,
            )


def dispatch(database_url: str, batch: int, go: str | None = None) -> dict[str, Any]:
    """A sender process: the production dispatcher until nothing is due."""
    from kairos.clock import SystemClock
    from kairos.config import Settings
    from kairos.db.engine import make_engine
    from kairos.worker.loop import build_dispatcher

    settings = Settings(  # type: ignore[call-arg]
        database_url=database_url, secret_key="bench-secret-key", dispatch_batch=batch,
        allow_private_targets=True, _env_file=None,  # the SMTP sink listens on 127.0.0.1
    )  # fmt: skip
    engine = make_engine(settings)
    dispatcher = build_dispatcher(settings, engine, SystemClock())
    while go is not None and not os.path.exists(go):
        time.sleep(0.001)
    sent = 0
    started = time.time()
    cpu0 = os.times()
    t0 = time.perf_counter()
    while True:
        done = dispatcher.run()
        if done == 0:
            break
        sent += done
    seconds = time.perf_counter() - t0
    cpu1 = os.times()
    ended = time.time()
    dispatcher.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "sent": sent,
        "seconds": seconds,
        "cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "started": started,
        "ended": ended,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "phases_s": {k: round(v, 2) for k, v in dispatcher.timings.items()},
        "pid": os.getpid(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kairos_bench.send")
    parser.add_argument("--dispatch", required=True, help="database URL; run the sender")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--go", help="wait until this file exists before starting")
    args = parser.parse_args(argv)
    print(json.dumps(dispatch(args.dispatch, args.batch, args.go)), flush=True)


if __name__ == "__main__":
    main()
