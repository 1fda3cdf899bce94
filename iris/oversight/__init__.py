"""Scheme oversight: the scheme admin's dashboard of states, delays, overdue work, certificates."""
