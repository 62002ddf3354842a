"""Operator tools behind the CLI: seed, replay, dead letters, users, backtest."""
