import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")
application = get_asgi_application()

# An ASGI server runs no system checks: refuse to start where the public demo key would sign
# licenses (licenses.E001), rather than serve with it.
from licenses.keys import refuse_demo_key_in_production  # noqa: E402  needs the app registry

refuse_demo_key_in_production()
