"""B9 — predictive conversion score: time-split AUC, training time and memory, scoring rate.

On a dataset of ``kairos bench generate --signal`` (``--path``/``--database-url``, or a small
one generated here) a predictive model of the planted goal (``Plan Upgraded`` within
``--within-days``) is created and trained as the worker trains it (``predict.jobs.run_due``
at the dataset's reference instant): features at T1 = now - 2w and T2 = now - w read in
keyset pages, the validation fit and its holdout AUC / Brier score, the final fit on the
latest window, then every contact scored and written.

Figures: ``auc`` (target ≥ 0.80), ``brier``, ``base_rate``, the training set sizes,
``train_seconds`` (the whole job: features, fits, scoring and writes; target ≤ 600 s),
``peak_rss_mb`` (this process; target ≤ 4 GB), and the scoring rates over every contact:
``predict_contacts_per_s`` (the model alone on the feature matrix in memory: target ≥ 100k/s),
``score_contacts_per_s`` (features read from the database, ``READ_AHEAD`` pages at once, and
probabilities: wall time), ``rescore_contacts_per_s`` (the worker's daily re-score,
``jobs.score_all``: features, probabilities and writes); and ``explain_ms_median`` / ``_p95``:
one contact's explanation as its profile computes it (``service.explain``: its features at
the scoring instant and the model), over ``EXPLAINED`` random contacts.
The model and its predictions are removed at the end.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kairos_bench.common import BenchError, cpus, workdir
from kairos_bench.generate import SIGNAL_GOAL, Spec, find_generated, generate, make_bench_engine

MODEL_KEY = "bench_upgrade"
#: Contacts whose explanation is timed (as a profile asks for it).
EXPLAINED = 200


def run_predict(
    *,
    database_url: str | None,
    path: Path | None,
    workspace_id: int | None,
    contacts: int,
    events: int,
    algorithm: str,
    within_days: int,
    keep: bool,
    say: Callable[[str], None],
) -> dict[str, Any]:
    from kairos.db.migrate import upgrade

    figures: dict[str, Any] = {"cpus": cpus()}
    with workdir(keep) as tmp:
        if database_url is None and path is not None:
            if not path.exists():
                raise BenchError(
                    f"{path} does not exist (make it with `kairos bench generate --signal --path {path}`)"
                )
            database_url = f"sqlite:///{path.resolve()}"
        if database_url is None:
            database_url = f"sqlite:///{tmp / 'generated.db'}"
            say(f"no --path/--database-url: generating {contacts:,} contacts and {events:,} events with the "
                f"planted signal in {tmp} …")  # fmt: skip
            engine = make_bench_engine(database_url)
            upgrade(engine)
            gen, _ = generate(engine, Spec(contacts, events, 90, 1, signal=True), say=say)
        else:
            engine = make_bench_engine(database_url)
            upgrade(engine)
            with engine.connect() as conn:
                gen = find_generated(conn, workspace_id)
        try:
            if not gen.spec.signal:
                raise BenchError(
                    "this dataset has no planted signal: generate it with `kairos bench generate --signal`"
                )
            figures |= {"contacts": gen.spec.contacts, "events": gen.spec.events, "algorithm": algorithm,
                        "within_days": within_days,
                        "database": database_url.partition(":")[0].partition("+")[0]}  # fmt: skip
            figures |= _run(engine, gen.workspace_id, gen.spec, algorithm, within_days, say)
        finally:
            engine.dispose()
    return figures


def _run(
    engine: Any, ws: int, spec: Spec, algorithm: str, within_days: int, say: Callable[[str], None]
) -> dict[str, Any]:
    import numpy as np
    from sqlalchemy import delete, func, select

    from kairos.db.engine import reading
    from kairos.predict.features import READ_AHEAD, FeatureSpec, feature_pages
    from kairos.predict.jobs import run_due, score_all
    from kairos.predict.service import create_model, explain
    from kairos.predict.tables import contact_prediction, predictive_model
    from kairos.predict.training import Fitted
    from kairos.workspaces.clocks import Scope

    now = spec.reference
    with engine.begin() as conn:
        conn.execute(delete(predictive_model).where(predictive_model.c.workspace_id == ws,
                                                    predictive_model.c.key == MODEL_KEY))  # fmt: skip
        model_id = create_model(conn, ws, now, key=MODEL_KEY, name="Bench upgrade", goal_event=SIGNAL_GOAL,
                                within_days=within_days, algorithm=algorithm)["id"]  # fmt: skip
    out: dict[str, Any] = {}
    try:
        say(f"training {algorithm} for {SIGNAL_GOAL!r} within {within_days} days at {now:%Y-%m-%d} …")
        t0 = time.perf_counter()
        run_due(engine, now, Scope(only=ws))
        seconds = time.perf_counter() - t0
        with engine.connect() as conn:
            row = conn.execute(select(predictive_model).where(predictive_model.c.id == model_id)).one()
            scored = conn.execute(
                select(func.count())
                .select_from(contact_prediction)
                .where(contact_prediction.c.model_id == model_id)
            ).scalar_one()
        if row.status != "ready":
            raise BenchError(f"training failed: {row.status_reason}")
        card = row.card
        out |= {
            "auc": card["auc"], "brier": card["brier"], "base_rate": card["base_rate"],
            "train_contacts": card["final"]["contacts"], "train_positives": card["final"]["positives"],
            "holdout_contacts": card["validation"]["contacts"],
            "holdout_positives": card["validation"]["positives"],
            "features": len(card["features"]), "train_seconds": round(seconds, 2),
            "features_seconds": card["features_seconds"], "validation_seconds": card["validation_seconds"],
            "fit_seconds": card["fit_seconds"], "job_score_seconds": card["scored"]["compute_seconds"],
            "job_write_seconds": card["scored"]["write_seconds"], "scored": scored,
            "top_features": [i["feature"] for i in card["importances"][:5]],
        }  # fmt: skip
        say(f"trained in {seconds:.1f}s (features {card['features_seconds']:.1f}s, validation "
            f"{card['validation_seconds']:.1f}s, final fit {card['fit_seconds']:.1f}s, scoring "
            f"{card['scored']['compute_seconds']:.1f}s + writes {card['scored']['write_seconds']:.1f}s): "
            f"holdout AUC {card['auc']:.3f}, Brier {card['brier']:.4f}, base rate {card['base_rate']:.3%}; "
            f"top features {out['top_features']}")  # fmt: skip

        fitted = Fitted.load(row.artifact)
        fspec = FeatureSpec.from_json(row.spec)
        n = 0
        xs, ids = [], []
        t = time.perf_counter()
        for rows, x in feature_pages(engine, ws, fspec, now):  # the pages read ahead, as score_all does
            fitted.probabilities(x)
            n += len(rows)
            xs.append(x)
            ids.append(rows.ids)
        score_s = time.perf_counter() - t
        allx = np.concatenate(xs)
        t = time.perf_counter()
        fitted.probabilities(allx)
        predict_s = time.perf_counter() - t
        t = time.perf_counter()
        rescored = score_all(engine, model_id, ws, fitted, fspec, now)
        rescore_s = time.perf_counter() - t
        # a profile's explanation: one contact's features at its scoring instant and the model
        sample = np.random.default_rng(0).choice(np.concatenate(ids), size=min(EXPLAINED, n), replace=False)
        took = []
        with reading(engine) as conn:
            for cid in sample.tolist():
                t = time.perf_counter()
                explain(conn, ws, cid, model_id, row.trained_at, row.spec, now)
                took.append(time.perf_counter() - t)
        out |= {
            "predict_contacts_per_s": round(n / predict_s, 1),
            "score_contacts_per_s": round(n / score_s, 1),
            "rescore_contacts_per_s": round(rescored.contacts / rescore_s, 1),
            "rescore_seconds": round(rescore_s, 2),
            "explain_ms_median": round(1000 * float(np.median(took)), 2),
            "explain_ms_p95": round(1000 * float(np.percentile(took, 95)), 2),
            "read_ahead": READ_AHEAD,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "verified": card["auc"] >= 0.80 and rescored.contacts == scored,
        }
        say(
            f"scoring {n:,} contacts: the model alone {out['predict_contacts_per_s']:,.0f}/s; "
            f"features read ({READ_AHEAD} pages at once) + probabilities "
            f"{out['score_contacts_per_s']:,.0f}/s; the worker's daily re-score with its writes "
            f"{out['rescore_contacts_per_s']:,.0f}/s; one contact's explanation "
            f"{out['explain_ms_median']} ms (median of {len(took)}); peak RSS {out['peak_rss_mb']:,.0f} MB"
        )
    finally:
        with engine.begin() as conn:
            conn.execute(delete(predictive_model).where(predictive_model.c.id == model_id))
    return out
