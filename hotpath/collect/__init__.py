"""Collectors: py-spy driven out of process, and in-process middleware."""
