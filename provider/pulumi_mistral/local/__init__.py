"""The local Connectors API server: a persistent stand-in for Mistral's API (needs the `local` extra)."""
