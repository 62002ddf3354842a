"""SLA clocks: when a ticket's due time is at risk or passed, published once per ticket and due date."""
