import pytest

from .smtp import SmtpServer


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server that Django's mail settings point at; stopped after the test."""
    server = SmtpServer()
    server.email_settings(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_down(settings):
    """Mail settings point at a port where nothing listens yet; ``.start()``
    brings the server up."""
    server = SmtpServer()
    server.email_settings(settings)
    try:
        yield server
    finally:
        server.stop()
