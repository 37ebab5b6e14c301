"""The files B2 imports: a CSV of contacts and a JSON Lines file of Segment messages.

Both come from a seeded generator, so the same options always give byte-identical files.
Events belong to the contacts of the CSV (``userId`` = ``external_id``) or, for a fifth of
them, to anonymous visitors only; they span the 90 days before ``TODAY``.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import orjson

from kairos_bench.fake import Faker, utc

TODAY = date(2026, 11, 23)
DAYS = 90
CONTACT_COLUMNS = (
    "external_id", "email", "phone", "first_name", "last_name", "timezone", "country", "city",
    "gender", "age", "education", "asset_level", "signup_date", "birthday", "acquisition_source",
)  # fmt: skip
#: Typed custom attributes the workspace declares before the import (the rest are strings).
ATTRIBUTE_TYPES = {"age": "number", "signup_date": "datetime", "birthday": "datetime"}


def write_contacts(path: Path, n: int, seed: int) -> None:
    faker = Faker(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CONTACT_COLUMNS)
        for i in range(n):
            row = faker.contact_row(i, TODAY)
            writer.writerow([row[c] for c in CONTACT_COLUMNS])


def write_events(path: Path, n: int, people: int, seed: int) -> None:
    faker = Faker(seed + 1)
    r = faker.r
    start = utc(TODAY - timedelta(days=DAYS))
    span = DAYS * 86_400
    offsets = sorted(r.random() * span for _ in range(n))  # exports are in time order
    dumps = orjson.dumps
    with path.open("wb") as fh:
        for i, offset in enumerate(offsets):
            person = faker.active_person(max(people, 1))
            when = start + timedelta(seconds=offset)
            identified = r.random() < 0.8
            msg = (faker.track if r.random() < 0.75 else faker.page)(person, when, identified=identified)
            msg["messageId"] = f"imp-{seed}-{i:09d}"
            fh.write(dumps(msg) + b"\n")
