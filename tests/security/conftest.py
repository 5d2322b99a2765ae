"""Fixtures of the security suite: none shared yet (each module starts the servers it needs)."""
