"""Analytics fixtures: the messaging ones (SMTP server, worker, email channel)."""

from tests.messaging.conftest import email_channel, settings, smtp, worker  # noqa: F401  (fixtures)
