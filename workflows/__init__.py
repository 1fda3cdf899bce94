"""What can happen: the lifecycles of IRIS certification as pure data.

Nothing in this package imports flask, sqlalchemy or iris (a test enforces it).
"""
