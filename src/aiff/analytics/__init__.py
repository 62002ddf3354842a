"""Analytics: daily stats folded from ticket events, team KPIs, trends, forecasts and reports."""
