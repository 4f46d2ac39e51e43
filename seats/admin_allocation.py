"""Admin for seats in use: assignments, leases, denials and daily usage (issue: Seats)."""
