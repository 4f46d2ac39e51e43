"""The records a logger emitted while a test ran (the project's loggers do not propagate to the
root logger, so pytest's caplog does not see them)."""

import logging
from contextlib import contextmanager


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@contextmanager
def records_of(name: str):
    handler = _Records()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
