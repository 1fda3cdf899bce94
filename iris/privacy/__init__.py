"""Personal data: who viewed restricted personal data, a person's own data, erasure."""
