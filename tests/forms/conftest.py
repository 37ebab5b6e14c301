"""Forms tests reuse the messaging fixtures: a recording SMTP server, a worker and an email
channel (double opt-in confirmations are real emails)."""

from tests.messaging.conftest import email_channel, settings, smtp, worker

__all__ = ["email_channel", "settings", "smtp", "worker"]
