"""The pure core shared by every edge: desired state, diff, fingerprints, pinning, settings comparison (no I/O).

Nothing here imports pulumi, httpx, FastAPI or mcp, so the provider, the CLI and the local server all build on it.
"""
