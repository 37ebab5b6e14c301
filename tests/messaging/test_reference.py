"""docs/providers.md is what the code says: generated from the providers' settings and
secrets models and the template fields, so it cannot drift."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kairos.cli import app
from kairos.messaging.channels import load_providers
from kairos.messaging.reference import TEMPLATE_FIELDS, provider_reference
from kairos.messaging.templates.liquid import CHANNEL_FIELDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "providers.md"


def test_the_committed_reference_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == provider_reference(), (
        "docs/providers.md is stale: run `kairos reference providers -o docs/providers.md`"
    )


def test_every_setting_and_template_field_is_described() -> None:
    for name, provider in load_providers().items():
        for model in (provider.settings_model, provider.secrets_model):
            for field, info in model.model_fields.items():
                assert info.description, f"{name}: {model.__name__}.{field} has no description"
    for channel, fields in CHANNEL_FIELDS.items():
        for field in fields:
            assert (channel, field) in TEMPLATE_FIELDS, f"template field {channel}.{field} is not described"


def test_the_cli_prints_it() -> None:
    result = CliRunner().invoke(app, ["reference", "providers"])
    assert result.exit_code == 0 and result.output == provider_reference()
