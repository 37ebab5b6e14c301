"""Kairos — marketing automation that acts at the opportune moment."""

__version__ = "0.1.0"
