"""The knowledge-graph core (no web framework)."""
