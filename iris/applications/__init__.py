"""Applications: an agency applies; the scheme manager screens (DOMAIN.md §3.1)."""
