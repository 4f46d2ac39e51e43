"""Mutants that cannot change what the program does, each with why (docs/testing.md lists them
too). tests/mutation/report.py leaves them out of the score."""

EQUIVALENT: dict[str, str] = {}
