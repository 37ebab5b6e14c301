"""Messaging: channels (one module per provider), templates, consent, policy, the outbox and
its dispatcher, and open/click tracking."""
