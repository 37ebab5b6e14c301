"""HTTP interfaces: Segment-compatible ingest (``/v1``) and the management API (``/api/v1``)."""
