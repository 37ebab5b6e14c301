"""CRM sync: HubSpot, Salesforce and a signed webhook behind one adapter protocol; a sync
outbox pushing changed contacts, deal stages read back as events (docs/leads.md)."""
