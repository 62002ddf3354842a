"""The NRO-Bots assistant: entity extraction, a learned intent model, typed read tools and confirmed actions."""
