"""Lead tests reuse the messaging fixtures where they need them: settings allowing private
targets (the fake HubSpot lives on 127.0.0.1), a recording SMTP server, an email channel and
the worker with the dispatcher (``test_leads.py`` keeps its own plain worker)."""

from tests.messaging.conftest import email_channel, settings, smtp, worker

__all__ = ["email_channel", "settings", "smtp", "worker"]
