"""Fleets: one migration across many databases or schemas (members), chosen from the worker's targets."""
