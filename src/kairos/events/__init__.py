"""Events: the Segment-compatible message model, ingest pipeline, JSONL import."""
