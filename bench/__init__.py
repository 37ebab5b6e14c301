"""Kairos benchmark suite: ``kairos bench <name>`` (never part of the test run).

Each benchmark prints a human summary and, as its last line, one JSON object of its figures;
the workloads and the keys are described in ``docs/benchmarks.md``.
"""
