"""``kairos bench …``: each command prints a summary, then one JSON line of its figures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from kairos_bench.common import BenchError, console, emit

bench_app = typer.Typer(
    help="Benchmarks (docs/benchmarks.md). The last line of output is one JSON object of figures.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print only the JSON line of figures")]


def _say(as_json: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if not as_json:
            console.print(f"[dim]{text}[/dim]", soft_wrap=True)

    return say


@bench_app.command("ingest")
def ingest(
    duration: Annotated[float, typer.Option(help="Measured seconds per phase")] = 10.0,
    connections: Annotated[int, typer.Option(help="Concurrent keep-alive connections")] = 32,
    batch_size: Annotated[int, typer.Option(help="Messages per /v1/batch request")] = 100,
    warmup: Annotated[float, typer.Option(help="Unmeasured seconds before each phase")] = 1.0,
    server_workers: Annotated[
        int, typer.Option(min=1, help="HTTP processes of the server (kairos serve --workers)")
    ] = 1,
    database_url: Annotated[
        str | None,
        typer.Option(help="Database to use (migrated, gets a new workspace); default: a temporary SQLite"),
    ] = None,
    py_spy: Annotated[
        Path | None, typer.Option(help="Directory for py-spy flame graphs of the server, one per phase")
    ] = None,
    py_spy_format: Annotated[
        str, typer.Option(help="py-spy output: flamegraph (.svg), raw (collapsed stacks, .txt), speedscope")
    ] = "flamegraph",
    offered: Annotated[
        float,
        typer.Option(
            help="A third phase: batches offered at this many events/s (open loop), with the "
            "event → stored latency; 0: no such phase"
        ),
    ] = 20000.0,
    processor_process: Annotated[
        bool,
        typer.Option(
            help="Process the ingest log in `kairos ingest process` beside the server, not in a thread of it"
        ),
    ] = False,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory (database, server log)")] = False,
    as_json: JsonOption = False,
) -> None:
    """B1: HTTP ingest, /v1/batch then single /v1/track, against a real `kairos serve`."""
    from kairos_bench.ingest import Options, run_ingest

    if duration <= 0 or connections < 1 or not 1 <= batch_size <= 2500:
        raise typer.BadParameter("need duration > 0, connections ≥ 1 and 1 ≤ batch size ≤ 2500")
    if py_spy_format not in ("flamegraph", "raw", "speedscope"):
        raise typer.BadParameter("flamegraph, raw or speedscope", param_hint="--py-spy-format")
    figures = _guard(
        lambda: run_ingest(
            Options(
                duration,
                connections,
                batch_size,
                warmup,
                py_spy,
                py_spy_format,
                server_workers,
                offered,
                processor_process,
            ),
            database_url=database_url,
            keep=keep,
            say=_say(as_json),
        )
    )
    failed = bool(figures["errors"]) or not figures["verified"]
    if failed:  # before the figures, so that the JSON stays the last line
        console.print(
            f"[bold red]FAILED[/bold red]: {figures['errors']} non-200 responses, "
            f"{figures['events']} events stored for {figures['acknowledged_messages']} acknowledged "
            f"messages. {figures['first_error']}"
        )
    emit("B1 ingest", figures, as_json=as_json, failed=failed)
    if failed:
        raise typer.Exit(1)


@bench_app.command("import")
def import_(
    contacts: Annotated[int, typer.Option(help="Contact rows in the CSV")] = 200_000,
    events: Annotated[int, typer.Option(help="Messages in the JSONL file")] = 200_000,
    seed: Annotated[int, typer.Option(help="Seed of the generated files")] = 1,
    database_url: Annotated[
        str | None,
        typer.Option(help="Database to use (migrated, gets a new workspace); default: a temporary SQLite"),
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory (files, database)")] = False,
    workers: Annotated[int, typer.Option(help="Parsing processes besides the writer (0: none)")] = 0,
    as_json: JsonOption = False,
) -> None:
    """B2: bulk import of contacts (CSV) and events (JSONL) into a fresh database."""
    from kairos_bench.imports import run_import

    figures = _guard(
        lambda: run_import(
            contacts=contacts,
            events=events,
            seed=seed,
            database_url=database_url,
            keep=keep,
            workers=workers,
            say=_say(as_json),
        )
    )
    if not figures["verified"]:
        console.print("[bold red]FAILED[/bold red]: rows were rejected or the stored counts do not match")
    emit("B2 import", figures, as_json=as_json, failed=not figures["verified"])
    if not figures["verified"]:
        raise typer.Exit(1)


@bench_app.command("generate")
def generate(
    contacts: Annotated[int, typer.Option(min=1, help="Contacts to create")] = 1_000_000,
    events: Annotated[int, typer.Option(min=0, help="Events to create")] = 20_000_000,
    days: Annotated[int, typer.Option(min=1, help="Days before the reference instant the events span")] = 90,
    seed: Annotated[int, typer.Option(help="Seed: the same options give the same rows")] = 1,
    path: Annotated[
        Path | None,
        typer.Option(
            help="SQLite file to create [default: bench-data/kairos-<contacts>-<events>-s<seed>.db]"
        ),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Any database instead (migrated, gets a new workspace)")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite the SQLite file if it exists")] = False,
    processes: Annotated[
        int | None, typer.Option(min=1, help="Event generator processes [default: cpus - 1, at least 1]")
    ] = None,
    signal: Annotated[
        bool,
        typer.Option(
            help="Plant a known conversion signal (pricing views → 'Plan Upgraded'; extra events, the "
            "others unchanged) for `kairos bench predict`"
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """B3/B4 dataset: a reproducible workspace of contacts and events, written straight to the database."""
    from kairos_bench.generate import Spec, run_generate

    figures = _guard(
        lambda: run_generate(
            Spec(contacts, events, days, seed, signal=signal),
            database_url=database_url,
            path=path,
            replace=replace,
            processes=processes,
            say=_say(as_json),
        )
    )
    emit("generate", figures, as_json=as_json)


DatasetPath = Annotated[
    Path | None,
    typer.Option(help="SQLite file made by `kairos bench generate` [default: generate a small one]"),
]
DatasetUrl = Annotated[
    str | None, typer.Option(help="Database made by `kairos bench generate` (instead of --path)")
]
DatasetWorkspace = Annotated[
    int | None, typer.Option("--workspace", help="Generated workspace id [default: the latest]")
]


@bench_app.command("segments")
def segments(
    path: DatasetPath = None,
    database_url: DatasetUrl = None,
    workspace: DatasetWorkspace = None,
    repeat: Annotated[int, typer.Option(min=1, help="Timings per segment (the median is reported)")] = 3,
    raw_all: Annotated[
        bool, typer.Option(help="Time every segment's raw query, not only segment 1's")
    ] = False,
    explain: Annotated[bool, typer.Option(help="Print each segment's query plan")] = False,
    contacts: Annotated[int, typer.Option(help="Contacts of the dataset generated without --path")] = 100_000,
    events: Annotated[int, typer.Option(help="Events of the dataset generated without --path")] = 2_000_000,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory of a generated dataset")] = False,
    as_json: JsonOption = False,
) -> None:
    """B3: full recompute of the 10 standard segments through the engine, and segment 1's raw SQL."""
    from kairos_bench.segments import run_segments

    figures = _guard(
        lambda: run_segments(
            database_url=database_url,
            path=path,
            workspace_id=workspace,
            repeat=repeat,
            raw_all=raw_all,
            explain=explain,
            contacts=contacts,
            events=events,
            keep=keep,
            say=_say(as_json),
        )
    )
    emit("B3 segments", figures, as_json=as_json, failed=bool(figures["failed"]))


@bench_app.command("incremental")
def incremental(
    path: DatasetPath = None,
    database_url: DatasetUrl = None,
    workspace: DatasetWorkspace = None,
    changed: Annotated[int, typer.Option(min=1, help="Contacts changed (each gets one new event)")] = 50_000,
    verify: Annotated[
        bool, typer.Option(help="Compare stored members with each segment's query after")
    ] = True,
    latency: Annotated[
        bool, typer.Option(help="Also measure event → membership latency (real server)")
    ] = True,
    rate: Annotated[float, typer.Option(help="Background ingest, events/s (batches of 100)")] = 1000.0,
    duration: Annotated[float, typer.Option(help="Seconds of latency probes")] = 30.0,
    probe_rate: Annotated[float, typer.Option(help="Probes per second")] = 5.0,
    separate_worker: Annotated[
        bool, typer.Option(help="serve --no-worker plus a `kairos worker` process (default: in-process)")
    ] = False,
    latency_contacts: Annotated[int, typer.Option(help="Contacts of the latency dataset")] = 100_000,
    latency_events: Annotated[int, typer.Option(help="Events of the latency dataset")] = 2_000_000,
    contacts: Annotated[int, typer.Option(help="Contacts of the dataset generated without --path")] = 100_000,
    events: Annotated[int, typer.Option(help="Events of the dataset generated without --path")] = 2_000_000,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory (datasets, server logs)")] = False,
    as_json: JsonOption = False,
) -> None:
    """B4: changed contacts re-evaluated per second, and event → membership latency under ingest."""
    from kairos_bench.incremental import Options, run_incremental

    options = Options(
        changed=changed,
        verify=verify,
        latency=latency,
        rate=rate,
        duration=duration,
        probe_rate=probe_rate,
        separate_worker=separate_worker,
        latency_contacts=latency_contacts,
        latency_events=latency_events,
    )
    figures = _guard(
        lambda: run_incremental(
            options,
            database_url=database_url,
            path=path,
            workspace_id=workspace,
            contacts=contacts,
            events=events,
            keep=keep,
            say=_say(as_json),
        )
    )
    failed = figures.get("verified") is False or bool(figures.get("missing")) or bool(figures["failed"])
    emit("B4 incremental", figures, as_json=as_json, failed=failed)
    if figures.get("verified") is False or figures.get("missing"):
        raise typer.Exit(1)


@bench_app.command("scoring")
def scoring(
    path: DatasetPath = None,
    database_url: DatasetUrl = None,
    workspace: DatasetWorkspace = None,
    changed: Annotated[int, typer.Option(min=1, help="Contacts that get new events")] = 10_000,
    per_contact: Annotated[
        int, typer.Option(min=1, help="New events per changed contact (B1's traffic: about 9 per pass)")
    ] = 1,
    contacts: Annotated[int, typer.Option(help="Contacts of the dataset generated without --path")] = 20_000,
    events: Annotated[int, typer.Option(help="Events of the dataset generated without --path")] = 400_000,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory")] = False,
    as_json: JsonOption = False,
) -> None:
    """B8: lead scoring — full recompute time and incremental events/s (docs/leads.md)."""
    from kairos_bench.scoring import run_scoring

    figures = _guard(
        lambda: run_scoring(
            database_url=database_url,
            path=path,
            workspace_id=workspace,
            contacts=contacts,
            events=events,
            changed=changed,
            per_contact=per_contact,
            keep=keep,
            say=_say(as_json),
        )
    )
    emit("B8 scoring", figures, as_json=as_json, failed=figures.get("verified") is False)
    if figures.get("verified") is False:
        raise typer.Exit(1)


@bench_app.command("predict")
def predict(
    path: DatasetPath = None,
    database_url: DatasetUrl = None,
    workspace: DatasetWorkspace = None,
    algorithm: Annotated[
        str, typer.Option(help="gradient_boosting or logistic_regression")
    ] = "gradient_boosting",
    within_days: Annotated[int, typer.Option(min=1, max=45, help="The goal's window (days)")] = 14,
    contacts: Annotated[int, typer.Option(help="Contacts of the dataset generated without --path")] = 20_000,
    events: Annotated[int, typer.Option(help="Events of the dataset generated without --path")] = 400_000,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory")] = False,
    as_json: JsonOption = False,
) -> None:
    """B9: predictive conversion score — holdout AUC, training time and memory, contacts scored
    per second, on a dataset with the planted signal (`kairos bench generate --signal`)."""
    from kairos_bench.predict import run_predict

    if algorithm not in ("gradient_boosting", "logistic_regression"):
        raise typer.BadParameter("gradient_boosting or logistic_regression", param_hint="--algorithm")
    figures = _guard(
        lambda: run_predict(
            database_url=database_url, path=path, workspace_id=workspace, contacts=contacts, events=events,
            algorithm=algorithm, within_days=within_days, keep=keep, say=_say(as_json),
        )
    )  # fmt: skip
    emit("B9 predictive", figures, as_json=as_json, failed=figures.get("verified") is False)
    if figures.get("verified") is False:
        raise typer.Exit(1)


@bench_app.command("send")
def send(
    messages: Annotated[int, typer.Option(min=1, help="Personalised emails in the broadcast")] = 100_000,
    batch: Annotated[int, typer.Option(min=1, help="Messages the dispatcher claims per pass")] = 500,
    smtp: Annotated[
        str | None, typer.Option(help="host:port of a real MTA (e.g. Postfix); default: our sink")
    ] = None,
    connections: Annotated[int, typer.Option(min=1, help="SMTP connections per worker")] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes sending (they share the outbox)")] = 2,
    database_url: Annotated[str | None, typer.Option(help="Database (default: a temporary SQLite)")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory")] = False,
    as_json: JsonOption = False,
) -> None:
    """B6: a broadcast of personalised MJML emails with tracking over SMTP: messages/s, peak RSS."""
    from kairos_bench.send import Options, run_send

    figures = _guard(
        lambda: run_send(
            Options(messages=messages, batch=batch, smtp=smtp, connections=connections, workers=workers),
            database_url=database_url,
            keep=keep,
            say=_say(as_json),
        )
    )
    emit("B6 send", figures, as_json=as_json)


@bench_app.command("journey")
def journey(
    contacts: Annotated[int, typer.Option(min=1, help="Contacts entering the journey")] = 100_000,
    batch: Annotated[int, typer.Option(min=1, help="Candidates enrolled per transaction")] = 5_000,
    due_limit: Annotated[
        int, typer.Option(min=1, help="Enrollments run_due claims per transaction (the worker's default)")
    ] = 2_000,
    opened: Annotated[float, typer.Option(min=0, max=1, help="Share of contacts who opened the email")] = 0.3,
    seed: Annotated[int, typer.Option(help="Seed of the sample who opened")] = 1,
    profile: Annotated[
        Path | None, typer.Option(help="Run the timed phases under cProfile; write the .prof files here")
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="Database (default: a temporary SQLite)")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory")] = False,
    as_json: JsonOption = False,
) -> None:
    """B5: contacts enter "wait 1 day → opened? → email or SMS": entries/s, transitions/s."""
    from kairos_bench.journey import Options, run_journey

    figures = _guard(
        lambda: run_journey(
            Options(contacts=contacts, batch=batch, due_limit=due_limit, opened=opened, seed=seed,
                    profile=profile),
            database_url=database_url,
            keep=keep,
            say=_say(as_json),
        )
    )  # fmt: skip
    emit("B5 journey", figures, as_json=as_json)


@bench_app.command("reports")
def reports(
    path: DatasetPath = None,
    database_url: DatasetUrl = None,
    workspace: DatasetWorkspace = None,
    repeat: Annotated[int, typer.Option(min=1, help="Timings per report (the median is reported)")] = 3,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Time only these reports (repeatable)")
    ] = None,
    contacts: Annotated[int, typer.Option(help="Contacts of the dataset generated without --path")] = 100_000,
    events: Annotated[int, typer.Option(help="Events of the dataset generated without --path")] = 2_000_000,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory of a generated dataset")] = False,
    as_json: JsonOption = False,
) -> None:
    """Reports on the B3 dataset plus a ~1M-message campaign: seconds per report (goal < 1 s)."""
    from kairos_bench.reports import run_reports

    figures = _guard(
        lambda: run_reports(
            database_url=database_url, path=path, workspace_id=workspace, repeat=repeat, only=only or [],
            contacts=contacts, events=events, keep=keep, say=_say(as_json),
        )
    )  # fmt: skip
    emit("Reports", figures, as_json=as_json, failed=not figures["under_1s"])


@bench_app.command("console")
def console_pages(
    path: DatasetPath = None,
    database_url: DatasetUrl = None,
    workspace: DatasetWorkspace = None,
    repeat: Annotated[int, typer.Option(min=5, help="Calls of each kind (p50 and p95 reported)")] = 40,
    contacts: Annotated[int, typer.Option(help="Contacts of the dataset generated without --path")] = 100_000,
    events: Annotated[int, typer.Option(help="Events of the dataset generated without --path")] = 2_000_000,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory of a generated dataset")] = False,
    as_json: JsonOption = False,
) -> None:
    """The console's contact list, search and profile API calls: p95 per call (goal ≤ 300 ms)."""
    from kairos_bench.console import run_console

    figures = _guard(
        lambda: run_console(
            database_url=database_url, path=path, workspace_id=workspace, repeat=repeat, contacts=contacts,
            events=events, keep=keep, say=_say(as_json),
        )
    )  # fmt: skip
    emit("Console", figures, as_json=as_json, failed=not figures["under_300ms"])


@bench_app.command("console-filters")
def console_filters(
    database_url: Annotated[
        str | None,
        typer.Option(help="An empty database, or one this benchmark built (default: a scratch SQLite)"),
    ] = None,
    contacts: Annotated[int, typer.Option(min=100_000, help="Contacts of the dataset it builds")] = 1_000_000,
    repeat: Annotated[int, typer.Option(min=5, help="Calls of each kind (p50 and p95 reported)")] = 20,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory (its SQLite dataset)")] = False,
    as_json: JsonOption = False,
) -> None:
    """The contact list's filters (segment, tag, stage) combined with each other and with a
    search, on a dataset of its own: p95 per combination (goal ≤ 300 ms)."""
    from kairos_bench.console_filters import run_console_filters

    figures = _guard(
        lambda: run_console_filters(
            database_url=database_url, contacts=contacts, repeat=repeat, keep=keep, say=_say(as_json)
        )
    )
    emit("Console filters", figures, as_json=as_json, failed=not figures["under_300ms"])


@bench_app.command("e2e")
def e2e(
    probes: Annotated[int, typer.Option(min=1, help="Probe contacts, one event each")] = 200,
    rate: Annotated[float, typer.Option(min=0.1, help="Probes per second")] = 10.0,
    warmup: Annotated[int, typer.Option(min=0, help="Probes sent first and not counted")] = 3,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the last emails")] = 30.0,
    separate_worker: Annotated[
        bool, typer.Option(help="serve --no-worker plus a `kairos worker` process (default: in-process)")
    ] = False,
    database_url: Annotated[str | None, typer.Option(help="Database (default: a temporary SQLite)")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the scratch directory (database, server logs)")] = False,
    as_json: JsonOption = False,
) -> None:
    """B7: a tracked event → journey trigger → email accepted by the SMTP sink: p50/p99 latency."""
    from kairos_bench.e2e import Options, run_e2e

    figures = _guard(
        lambda: run_e2e(
            Options(
                probes=probes, rate=rate, warmup=warmup, timeout=timeout, separate_worker=separate_worker
            ),
            database_url=database_url,
            keep=keep,
            say=_say(as_json),
        )
    )
    failed = bool(figures["missing"])
    if failed:  # before the figures, so that the JSON stays the last line
        console.print(f"[bold red]FAILED[/bold red]: {figures['missing']} probes' emails never arrived")
    emit("B7 end to end", figures, as_json=as_json, failed=failed)
    if failed:
        raise typer.Exit(1)


def _guard(run: Any) -> dict[str, Any]:
    try:
        return run()  # type: ignore[no-any-return]
    except BenchError as exc:
        console.print(f"[bold red]benchmark failed:[/bold red] {exc}")
        raise typer.Exit(2) from None
