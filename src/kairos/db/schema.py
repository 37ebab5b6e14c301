"""Imports every table module so ``metadata`` is complete (migrations, tests)."""

from kairos.accounts import tables as accounts_tables
from kairos.analytics import tables as analytics_tables
from kairos.b2b import tables as b2b_tables
from kairos.campaigns import tables as campaigns_tables
from kairos.contacts import tables as contacts_tables
from kairos.crm import tables as crm_tables
from kairos.db.metadata import metadata
from kairos.events import tables as events_tables
from kairos.forms import tables as forms_tables
from kairos.journeys import tables as journeys_tables
from kairos.leads import tables as leads_tables
from kairos.messaging import tables as messaging_tables
from kairos.offers import tables as offers_tables
from kairos.predict import tables as predict_tables
from kairos.scoring import tables as scoring_tables
from kairos.segments import tables as segments_tables
from kairos.workspaces import tables as workspaces_tables

__all__ = [
    "accounts_tables",
    "analytics_tables",
    "b2b_tables",
    "campaigns_tables",
    "contacts_tables",
    "crm_tables",
    "events_tables",
    "forms_tables",
    "journeys_tables",
    "leads_tables",
    "messaging_tables",
    "metadata",
    "offers_tables",
    "predict_tables",
    "scoring_tables",
    "segments_tables",
    "workspaces_tables",
]
