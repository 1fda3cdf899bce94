"""The shared workflow UI: one POST route for every step, the lifecycle diagrams."""
