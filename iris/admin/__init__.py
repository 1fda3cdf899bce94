"""Scheme administration: users, organisations, auditors and the local mail outbox."""
