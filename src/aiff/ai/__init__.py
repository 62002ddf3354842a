"""Applied ML for dispatchers: ticket text classification, urgency cues, duplicates, SLA risk, volume
forecasts, insights, and an assistant that answers with numbers from the projections."""
