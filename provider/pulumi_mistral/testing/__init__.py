"""Test tools for connector stacks: the local server in a thread or a subprocess, its test controls, pytest fixtures
and a stack runner.

These are test tools, not a deployment engine: see each module's docstring for what they do and do not model.
"""
