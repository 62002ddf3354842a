"""AIFF: an event-driven field-service assignment engine on Kafka."""

__version__ = "0.1.0"
