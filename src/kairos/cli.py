"""The ``kairos`` command line."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import Engine

from kairos.clock import SystemClock, ensure_utc
from kairos.config import get_settings
from kairos.durations import NOMINAL, Duration

app = typer.Typer(help="Kairos marketing automation.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces and their keys.", no_args_is_help=True)
import_app = typer.Typer(
    help="Bulk imports with progress and a summary of rejected rows.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
app.add_typer(import_app, name="import")
contact_app = typer.Typer(help="One person's data: access requests.", no_args_is_help=True)
app.add_typer(contact_app, name="contact")
reference_app = typer.Typer(help="References generated from the code.", no_args_is_help=True)
clock_app = typer.Typer(help="A workspace's clock; a sandbox's is advanced here.", no_args_is_help=True)
user_app = typer.Typer(help="Console users: create, reset passwords, first-run setup.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(clock_app, name="clock")
app.add_typer(reference_app, name="reference")
ingest_app = typer.Typer(help="The ingest log: what /v1 accepted, not yet processed.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")


@reference_app.command("providers")
def reference_providers(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here (docs/providers.md)")
    ] = None,
) -> None:
    """Every channel provider's settings and secrets, and the template fields per channel."""
    from kairos.messaging.reference import provider_reference

    text = provider_reference()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@reference_app.command("openapi")
def reference_openapi(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here")] = None,
) -> None:
    """The management and public API's OpenAPI document (what /openapi.json serves): the
    console's TypeScript types are generated from it."""
    import tempfile

    from kairos.api.app import create_app
    from kairos.config import Settings

    with tempfile.TemporaryDirectory() as scratch:  # the document needs no data: a scratch database
        url = f"sqlite:///{scratch}/openapi.db"
        kairos = create_app(Settings(database_url=url, secret_key="openapi-document", _env_file=None))  # type: ignore[call-arg]
        document = kairos.api.openapi()
        kairos.ingest.writer.stop()
        kairos.state.engine.dispose()
    text = json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


console = Console(stderr=True)


def _engine() -> Engine:
    from kairos.db.engine import make_engine

    return make_engine(get_settings())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run the worker loops in-process")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, help="HTTP processes sharing the port (one Python process uses one core)")
    ] = 1,
) -> None:
    """Serve the ingest API, the management API and public pages."""
    import uvicorn

    from kairos.api.app import create_app
    from kairos.logs import uvicorn_log_config
    from kairos.runtime import tune_gc

    settings = get_settings()
    _logging(settings.log_level)
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        "loop": "uvloop",
        "http": "httptools",
        "timeout_graceful_shutdown": 10,
        "log_config": uvicorn_log_config(settings.log_format),
    }
    if workers == 1:
        application = create_app(settings, embedded_worker=not no_worker)
        if settings.metrics_port is not None:  # one process: the admin port is this one's
            from kairos.metrics import serve_admin

            serve_admin(application.api.state.metrics, settings.metrics_port, settings.metrics_host)
        tune_gc()
        uvicorn.run(application, **options)
        return
    # Each process runs its own ingest writer; with the embedded worker on, each also runs
    # the worker loops, which is safe (claims are transactional) if redundant.
    os.environ["KAIROS_EMBEDDED_WORKER"] = "0" if no_worker else "1"
    uvicorn.run("kairos.api.app:app_from_env", factory=True, workers=workers, **options)


def _logging(level: str) -> None:
    from kairos.logs import configure

    configure(level, get_settings().log_format)  # KAIROS_LOG_FORMAT: text or json


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one pass of everything due, then exit")] = False,
    now: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Run the engine loops: changed contacts, triggers, journeys, broadcasts and delivery.
    SIGTERM (and Ctrl-C) stop it after the pass in progress, so a batch being sent is
    recorded rather than left to be sent again after its lease."""
    from kairos.worker.loop import Worker, build_dispatcher

    settings = get_settings()
    _logging(settings.log_level)
    if (problem := settings.base_url_problem()) is not None:  # the links it sends are built on it
        logging.getLogger("kairos.worker").warning(problem)
    if now is not None:  # it used to exist, and moved live workspaces' time (docs/sandbox.md)
        raise typer.BadParameter(
            "a live workspace runs on the real clock and cannot be moved; rehearse in a sandbox "
            "workspace (kairos workspace create --sandbox) and advance its clock with "
            "kairos clock advance",
            param_hint="--now",
        )
    clock = SystemClock()
    engine = _engine()
    loop = Worker(
        engine,
        clock,
        settings.worker_interval,
        build_dispatcher(settings, engine, clock),
        event_retention_days=settings.event_retention_days,
    )
    if settings.metrics_port is not None and not once:
        from kairos.metrics import exposition, serve_admin

        serve_admin(exposition(engine, clock), settings.metrics_port, settings.metrics_host)
    if once:
        done = loop.run_once()
        console.print(f"worker pass as of {clock.now().isoformat()}: {done}")
        return
    from kairos.runtime import tune_gc

    tune_gc()
    console.print("worker running; Ctrl-C or SIGTERM to stop")
    signal.signal(signal.SIGTERM, lambda *_: loop.request_stop())
    with contextlib.suppress(KeyboardInterrupt):
        loop.run_forever()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (creates the database on first run)."""
    from kairos.db.migrate import upgrade

    upgrade(_engine(), revision)
    console.print(f"database at {revision}")


@ingest_app.command("status")
def ingest_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object only")] = False,
) -> None:
    """Messages waiting in the ingest log, the oldest one's age, and rows kept after failing."""
    from kairos.db.engine import reading
    from kairos.events.log import failed, pending

    with _clean_errors(), reading(_engine()) as conn:
        rows, messages, oldest = pending(conn)
        kept = failed(conn)
    lag = (SystemClock().now() - oldest).total_seconds() if oldest is not None else 0.0
    out = {"pending_rows": rows, "pending_messages": messages, "lag_seconds": round(lag, 3),
           "failed": [{**r, "received_at": r["received_at"].isoformat()} for r in kept]}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(out))
        return
    console.print(f"{messages} messages pending in {rows} requests; oldest {lag:.1f} s ago")
    for r in kept:
        where = f"workspace {r['workspace_id']}, {r['count']} messages"
        console.print(f"failed row {r['id']} ({where}): {r['error']}")


@ingest_app.command("process")
def ingest_process(
    poll: Annotated[float, typer.Option(help="Seconds between looks at an empty log")] = 0.02,
) -> None:
    """Process the ingest log in a process of its own, on a core of its own (Python runs one
    thread at a time per process): run it beside `kairos serve` started with
    KAIROS_INGEST_PROCESSOR=false. SIGTERM (and Ctrl-C) stop it after the group in progress.
    Several may run: they take turns on the log."""
    from kairos.events.log import IngestProcessor
    from kairos.runtime import tune_gc

    settings = get_settings()
    _logging(settings.log_level)
    processor = IngestProcessor(_engine(), SystemClock(), settings.ingest_process_batch, poll_interval=poll)
    tune_gc()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    processor.start()
    console.print("ingest processor running; Ctrl-C or SIGTERM to stop")
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(1.0):
            pass
    processor.stop()


@ingest_app.command("replay")
def ingest_replay(
    row_id: Annotated[list[int] | None, typer.Option("--id", help="Only this row (repeatable)")] = None,
) -> None:
    """Put rows kept after failing back in line: the server's processor (or the next worker
    pass) processes them again, in id order."""
    from kairos.events.log import replay

    with _clean_errors(), _engine().begin() as conn:
        count = replay(conn, row_id)
    console.print(f"{count} rows back in line")


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Option(help="Workspace name")],
    default_country: Annotated[
        str | None, typer.Option(help="ISO country for phone numbers without +prefix")
    ] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="A sandbox: its clock is virtual and moves only when advanced")
    ] = False,
    clock_start: Annotated[
        str | None, typer.Option(help="With --sandbox: the instant its clock starts at (default: now)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object only")] = False,
) -> None:
    """Create a workspace and print its id, write key (ingest) and API key (management)."""
    from kairos.workspaces.service import create_workspace

    start = _parse_instant(clock_start, "--clock-start") if clock_start else None
    with _clean_errors(), _engine().begin() as conn:
        created = create_workspace(
            conn, SystemClock(), name, default_country=default_country, sandbox=sandbox, clock_start=start
        )
    if created.clock_at is not None and as_json:
        typer.echo(json.dumps({"id": created.id, "name": created.name, "write_key": created.write_key,
                               "api_key": created.api_key, "sandbox": True,
                               "clock_at": created.clock_at.isoformat()}))  # fmt: skip
        return
    _print_workspace(created.id, created.name, created.write_key, created.api_key, as_json)
    if created.clock_at is not None:
        console.print(f"  a sandbox: its clock reads {created.clock_at.isoformat()} until advanced")


@workspace_app.command("ensure-default")
def workspace_ensure_default(name: str = "Default") -> None:
    """Create a workspace if there is none, and print its keys; while no console user exists,
    print a one-time link to create the first admin (used by `make run`)."""
    from kairos.workspaces.service import create_workspace, list_workspaces

    with _engine().begin() as conn:
        existing = list_workspaces(conn)
        created = None if existing else create_workspace(conn, SystemClock(), name)
    if created is None:
        ws = existing[0]
        console.print(
            f"workspace {ws.id} ({ws.name!r}) exists; its keys were printed when it was created "
            "(only their hashes are stored). New ones: kairos workspace key --workspace "
            f"{ws.id} --kind write|api"
        )
    else:
        _print_workspace(created.id, created.name, created.write_key, created.api_key, False)
    _print_setup_link()


def _print_setup_link() -> None:
    """While no user exists: a one-time token to create the first admin in the browser."""
    from kairos.accounts.service import issue_setup_token, setup_needed

    with _engine().begin() as conn:
        if not setup_needed(conn):
            return
        token = issue_setup_token(conn, SystemClock().now())
    url = get_settings().base_url.rstrip("/")
    console.print("[bold]First sign-in:[/bold] create the first admin in the console (valid 24 h, once):")
    typer.echo(f"  {url}/setup?token={token}")


@workspace_app.command("key")
def workspace_key(
    workspace: Annotated[int, typer.Option(help="Workspace id")],
    kind: Annotated[str, typer.Option(help="write (ingest) or api (management)")] = "api",
    name: Annotated[str, typer.Option(help="A label for the key")] = "cli",
) -> None:
    """Issue a new key for a workspace and print it (it cannot be shown again)."""
    from kairos.workspaces.service import create_key, list_workspaces

    if kind not in ("write", "api"):
        raise typer.BadParameter("kind is write or api", param_hint="--kind")
    with _engine().begin() as conn:
        if workspace not in {w.id for w in list_workspaces(conn)}:
            raise typer.BadParameter(f"no workspace {workspace}", param_hint="--workspace")
        raw = create_key(conn, SystemClock(), workspace, kind, name)  # type: ignore[arg-type]
    typer.echo(raw)


@workspace_app.command("keys")
def workspace_keys(workspace: Annotated[int, typer.Option(help="Workspace id")]) -> None:
    """List a workspace's keys: id, kind, name, prefix, created, revoked (never the secret)."""
    from kairos.db.engine import reading
    from kairos.workspaces.service import list_keys

    with reading(_engine()) as conn:
        rows = list_keys(conn, workspace)
    for k in rows:
        revoked = f"revoked {k['revoked_at'].isoformat()}" if k["revoked_at"] else "active"
        typer.echo(
            f"{k['id']}\t{k['kind']}\t{k['prefix']}…\t{k['name']}\t{k['created_at'].isoformat()}\t{revoked}"
        )


@workspace_app.command("revoke-key")
def workspace_revoke_key(
    key: Annotated[str, typer.Argument(help="Key id, its printed prefix (ak_xxxxxxx) or the whole key")],
    force: Annotated[bool, typer.Option("--force", help="Also revoke the workspace's last API key")] = False,
) -> None:
    """Revoke a key. Running servers stop accepting it within 30 s (their key cache)."""
    from kairos.errors import KairosError
    from kairos.workspaces.service import find_key, revoke_key

    try:
        with _engine().begin() as conn:
            found = find_key(conn, key)
            revoke_key(conn, SystemClock(), found["workspace_id"], found["id"], allow_last=force)
    except KairosError as exc:
        hint = " (--force to revoke it anyway)" if exc.code == "last_api_key" else ""
        console.print(f"[red]{exc.message}[/red]{hint}")
        raise typer.Exit(1) from None
    console.print(
        f"revoked {found['kind']} key {found['id']} ({found['prefix']}…) of workspace "
        f"{found['workspace_id']}; running servers stop accepting it within 30 s"
    )


def _print_workspace(ws_id: int, name: str, write_key: str, api_key: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"id": ws_id, "name": name, "write_key": write_key, "api_key": api_key}))
        return
    console.print(f"[bold]workspace[/bold] {ws_id} ({name})")
    console.print(f"  write key (ingest, /v1/*):      [green]{write_key}[/green]")
    console.print(f"  API key (management, /api/v1): [green]{api_key}[/green]")
    console.print("  Keep them: only their hashes are stored. For the README's examples, in your shell:")
    # plain lines (no markup, no wrapping) so they can be copied as they are
    typer.echo(f"export WRITE_KEY={write_key}")
    typer.echo(f"export API_KEY={api_key}")


@import_app.command("contacts")
def import_contacts(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with a header row")],
    workspace: Annotated[int, typer.Option(help="Workspace id")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="column=field, e.g. Mail=email or Plan=traits.plan (repeatable)"),
    ] = None,
) -> None:
    """Import contacts from CSV: upsert by external_id / email / phone."""
    from kairos.contacts.imports import import_contacts_csv
    from kairos.imports import run_import

    run_import(
        console,
        _engine(),
        workspace,
        file,
        lambda eng, progress: import_contacts_csv(
            eng, workspace, file, mapping=map_ or [], progress=progress
        ),
    )


@import_app.command("accounts")
def import_accounts(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with a header row")],
    workspace: Annotated[int, typer.Option(help="Workspace id")],
) -> None:
    """Import B2B accounts from CSV: upsert by external_id, else domain; link contacts by email."""
    from kairos.b2b.imports import import_accounts_csv
    from kairos.imports import run_import

    run_import(
        console,
        _engine(),
        workspace,
        file,
        lambda eng, progress: import_accounts_csv(eng, workspace, file, progress=progress),
    )


@import_app.command("events")
def import_events(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Segment messages, one JSON per line")
    ],
    workspace: Annotated[int, typer.Option(help="Workspace id")],
) -> None:
    """Import Segment-spec messages (identify, track, page, …) from JSON Lines."""
    from kairos.events.imports import import_events_jsonl
    from kairos.imports import run_import

    run_import(
        console,
        _engine(),
        workspace,
        file,
        lambda eng, progress: import_events_jsonl(eng, workspace, file, progress=progress),
    )


@contact_app.command("export")
def contact_export(
    contact_id: Annotated[int, typer.Argument(help="Contact id (a merged id exports its survivor)")],
    workspace: Annotated[int, typer.Option(help="Workspace id")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (mode 0600) instead of stdout")
    ] = None,
) -> None:
    """Everything held on a person (GDPR right of access) as JSON, as GET
    /api/v1/contacts/{id}/export answers."""
    import sys

    from kairos.contacts.export import export_contact, subject_of
    from kairos.db.engine import reading
    from kairos.errors import NotFound

    engine = _engine()
    try:
        with reading(engine) as conn:
            subject = subject_of(conn, workspace, contact_id)
    except NotFound as exc:
        console.print(f"[red]{exc.message}[/red] in workspace {workspace}")
        raise typer.Exit(1) from None
    chunks = export_contact(engine, subject, SystemClock().now())
    if output is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.write(b"\n")
        sys.stdout.buffer.flush()
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    console.print(f"contact {subject.contact_id} exported to {output}")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Their email (they sign in with it)")],
    role: Annotated[str, typer.Option(help="admin, marketer, analyst or sales")],
    name: Annotated[str | None, typer.Option(help="Their name (default: from the email)")] = None,
    workspace: Annotated[
        list[int] | None, typer.Option(help="Workspace id (repeatable; default: every workspace)")
    ] = None,
    approver: Annotated[bool, typer.Option("--approver", help="May approve campaigns")] = False,
    password: Annotated[
        str | None, typer.Option(help="Their password (asked for when not given; 12+ characters)")
    ] = None,
) -> None:
    """Create a console user with a role in one or more workspaces (an existing user is given
    the role in those workspaces)."""
    from kairos.accounts import service as accounts
    from kairos.workspaces.service import list_workspaces

    with _clean_errors(), _engine().begin() as conn:
        targets = workspace or [w.id for w in list_workspaces(conn)]
        known = {w.id for w in list_workspaces(conn)}
        if not targets or any(t not in known for t in targets):
            raise typer.BadParameter(
                "no such workspace (kairos workspace create first)", param_hint="--workspace"
            )
        found = accounts.user_by_email(conn, email)
        now = SystemClock().now()
        if found is None:
            secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
            user_id = accounts.create_user(conn, email, name or email.split("@")[0], secret, now)
        else:
            user_id = int(found.id)
        for ws_id in targets:
            accounts.add_member(conn, ws_id, user_id, role, approver, now)
    console.print(f"user {user_id} ({email}) is {role} of workspace(s) {', '.join(map(str, targets))}")


@user_app.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Option(help="The user's email")],
    password: Annotated[str | None, typer.Option(help="The new password (asked for when not given)")] = None,
) -> None:
    """Set a user's password; it signs them out everywhere."""
    from kairos.accounts import service as accounts

    with _clean_errors(), _engine().begin() as conn:
        found = accounts.user_by_email(conn, email)
        if found is None:
            console.print(f"[red]no user {email}[/red]")
            raise typer.Exit(1)
        secret = password or typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        accounts.set_password(conn, int(found.id), secret, SystemClock().now())
    console.print(f"password of {email} changed; their sessions have ended")


@user_app.command("setup-token")
def user_setup_token() -> None:
    """Print a new one-time link to create the first admin in the console (only while no
    user exists)."""
    from kairos.accounts.service import setup_needed
    from kairos.db.engine import reading

    with reading(_engine()) as conn:
        needed = setup_needed(conn)
    if not needed:
        console.print("[red]a user exists already: sign in, or kairos user create / reset-password[/red]")
        raise typer.Exit(1)
    _print_setup_link()


@contextlib.contextmanager
def _clean_errors() -> Iterator[None]:
    """A refusal (``KairosError``) is printed as one red line and exits 1, not a traceback."""
    from kairos.errors import KairosError

    try:
        yield
    except KairosError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(1) from None


def _parse_instant(text: str, option: str) -> datetime:
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 instant", param_hint=option) from None


_DURATION = re.compile(r"^\s*(\d{1,9})\s*([a-z]+)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks",
          "mo": "months", "y": "years"}  # fmt: skip


def _parse_duration(text: str) -> Duration:
    """``3d``, ``12 hours``, ``2 weeks``, ``1 month``: a number and a unit (or its letter)."""
    found = _DURATION.match(text.lower())
    unit = None
    if found:
        word = found[2]
        unit = _UNITS.get(word) or next((u for u in NOMINAL if word in (u, u.removesuffix("s"))), None)
    if found is None or unit is None:
        raise typer.BadParameter(
            f"{text!r} is not a duration: a number and a unit, e.g. 3d, 12h, 2 weeks, 1 month",
            param_hint="--by",
        )
    return Duration(amount=int(found[1]), unit=unit)


@clock_app.command("show")
def clock_show(workspace: Annotated[int, typer.Option(help="Workspace id")]) -> None:
    """Print the workspace's now: the real clock's, or a sandbox's virtual one."""
    from kairos.db.engine import reading
    from kairos.imports import load_workspace
    from kairos.workspaces.clocks import workspace_now

    engine = _engine()
    with _clean_errors():
        ws = load_workspace(engine, workspace)
    with reading(engine) as conn:
        now = workspace_now(conn, ws.id, SystemClock())
    kind = "sandbox, virtual clock" if ws.sandbox else "live, real clock"
    typer.echo(f"{now.isoformat()}  (workspace {ws.id}, {kind})")


@clock_app.command("advance")
def clock_advance(
    workspace: Annotated[int, typer.Option(help="Workspace id (a sandbox)")],
    to: Annotated[str | None, typer.Option(help="The instant to advance to (ISO 8601)")] = None,
    by: Annotated[str | None, typer.Option(help="Or how far: 3d, 12h, 2w, 1 month")] = None,
) -> None:
    """Move a sandbox's clock forward, running everything that falls due on the way at its
    own instant (journey waits, messages, broadcasts, experiments), as a worker would have."""
    from kairos.db.engine import reading
    from kairos.worker.loop import Worker, build_dispatcher
    from kairos.worker.sandbox import advance
    from kairos.workspaces.clocks import sandbox_now

    if (to is None) == (by is None):
        raise typer.BadParameter("give either --to (an instant) or --by (a duration)")
    settings = get_settings()
    _logging(settings.log_level)
    engine = _engine()
    with _clean_errors():
        with reading(engine) as conn:
            now = sandbox_now(conn, workspace)
        target = _parse_instant(to, "--to") if to is not None else _parse_duration(by or "").after(now)
        clock = SystemClock()
        loop = Worker(
            engine,
            clock,
            settings.worker_interval,
            build_dispatcher(settings, engine, clock),
            event_retention_days=settings.event_retention_days,
        )
        try:
            result = advance(loop, workspace, target)
        finally:
            loop.stop()
    done = ", ".join(f"{k} {v}" for k, v in sorted(result.done.items())) or "nothing was due"
    typer.echo(
        f"workspace {workspace}: {result.started_at.isoformat()} -> {result.now.isoformat()} "
        f"({result.instants} instants; {done})"
    )


def _register_bench() -> None:
    try:
        from kairos_bench.cli import bench_app  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # installed without the benchmark suite
        return
    app.add_typer(bench_app, name="bench")


_register_bench()
