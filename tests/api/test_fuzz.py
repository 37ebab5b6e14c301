"""Property-based fuzzing of every operation of ``/openapi.json`` (schemathesis): whatever
the generated path, query and body — valid and invalid — the API never answers 5xx, and
every error is ``{"code", "message"}``.

Bounded for CI: ``KAIROS_FUZZ_EXAMPLES`` examples per operation and generation mode
(default 10), derandomized so a run is repeatable; raise it locally to search harder.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from kairos.workspaces.service import CreatedWorkspace

EXAMPLES = int(os.environ.get("KAIROS_FUZZ_EXAMPLES", "10"))


def test_no_operation_fails_or_answers_out_of_format(client: TestClient, workspace: CreatedWorkspace) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    auth = {"Authorization": f"Bearer {workspace.api_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def check(case: Any) -> None:
                response = case.call(headers=auth)
                where = f"{case.method} {case.formatted_path}"
                assert response.status_code < 500, (where, case.body, response.status_code, response.text[:500])
                if response.status_code >= 400:
                    body = response.json()
                    assert isinstance(body, dict) and set(body) == {"code", "message"}, (where, body)

            try:
                check()
            except Unsatisfiable:
                # nothing invalid can be made for this operation (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
