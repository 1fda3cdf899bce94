"""Certification cases: one audit cycle by an audit company (DOMAIN.md §3.2)."""
