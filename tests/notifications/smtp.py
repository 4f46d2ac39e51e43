"""A real SMTP server for tests (aiosmtpd), which can be stopped and started again
on the same port."""

import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Collector:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append({"rcpt": list(envelope.rcpt_tos), "message": msg})
        return "250 Message accepted for delivery"


class SmtpServer:
    """Messages received are in ``.messages`` (dicts with ``rcpt`` and the parsed ``message``)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = _Collector()
        self.controller = None

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def email_settings(self, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = self.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.IWP_OUTBOX_SMTP_TIMEOUT = 5


def body_of(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content()
