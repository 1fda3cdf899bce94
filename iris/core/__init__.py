"""Shared machinery. Nothing in iris.core imports a feature package."""
