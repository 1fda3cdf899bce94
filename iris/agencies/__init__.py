"""Recruitment agencies: the profile of DOMAIN.md section 4."""
