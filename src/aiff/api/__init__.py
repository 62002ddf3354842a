"""The HTTP API: one FastAPI app serving the seeds' auth, tickets and gateway paths (root and /api)."""
