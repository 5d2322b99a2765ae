"""Example MCP servers (demo, OAuth-protected with a local authorization server) and an in-process runner."""
