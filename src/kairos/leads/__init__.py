"""Lead management: lifecycle rules with SLAs, assignment to sales owners, "My leads" with
accept / reject, and the human tasks journeys hand to people (``docs/leads.md``)."""
