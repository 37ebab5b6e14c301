"""CRM fixtures: the messaging ones (settings allowing private targets, the worker with the
dispatcher and the CRM syncer, the strict API) and the HubSpot/Salesforce fakes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.crm.fakes import HubSpotFake, SalesforceFake
from tests.messaging.conftest import (  # noqa: F401  (fixtures)
    settings,
    strict_api,
    strict_settings,
    worker,
)


@pytest.fixture
def hubspot() -> Iterator[HubSpotFake]:
    fake = HubSpotFake("pat-na1-secret")
    yield fake
    fake.stop()


@pytest.fixture
def salesforce() -> Iterator[SalesforceFake]:
    fake = SalesforceFake("consumer-key", "consumer-secret")
    yield fake
    fake.stop()
