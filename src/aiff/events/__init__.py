"""The public event contract: envelopes, payloads, topics and the producer."""
