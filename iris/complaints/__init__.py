"""Complaints and appeals (DOMAIN.md §3.4)."""
