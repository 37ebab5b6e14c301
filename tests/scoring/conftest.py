"""Scoring tests that send messages (Story 3) use the messaging fixtures: settings allowing
private targets (the fake providers live on 127.0.0.1), a recording SMTP server, an email
channel and the worker with the dispatcher."""

from tests.messaging.conftest import email_channel, settings, smtp, worker

__all__ = ["email_channel", "settings", "smtp", "worker"]
