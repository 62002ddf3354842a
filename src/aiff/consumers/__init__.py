"""Kafka consumers: one module per consumer group, each a thin shell around a plain async function."""
