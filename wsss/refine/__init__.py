"""Refiners: dense CRF, affinity labels and random walk."""
