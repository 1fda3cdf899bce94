"""Operations: backup and restore, and the worker's health (``flask iris backup ...``)."""
