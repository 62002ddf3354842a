"""Deterministic demo data (zones, teams, ticket history) for AIFF, generated as contract events."""

from aiff.demo.generator import DemoData, generate, iter_ticket_events, setup_events

__all__ = ["DemoData", "generate", "iter_ticket_events", "setup_events"]
