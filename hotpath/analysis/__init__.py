"""Analyses of a profile: pure functions from the model to results."""
