"""Template filters for the admin's license pages."""

from django import template

register = template.Library()


@register.filter
def signed_with_demo_key(statuses):
    """Of license_status's rows, the servers whose license in force the public demo key signed
    while that key is refused (DEBUG off): the admin home names them in a red banner."""
    return [status for status in statuses if status.signed_with_demo_key]
