"""Live fan-out: the live consumer publishes coalesced state changes to Redis; the API's /ws fans them out.

Pieces:
- `channel`: Redis key names, the atomic publish script (seq + stream + pub/sub) and replay from the stream.
- `summary`: Kafka records -> one compact message per batch, coalesced per ticket/team, read back from
  the projections once the projector has applied them.
- `kpis`: the dashboard KPI snapshot, computed from the projections.
- `hub`: one Redis subscription per API process, fanning out to bounded per-client queues.
"""
