"""The admin where administrators manage servers, organizations, users and stations and their seats.

``tenancy``: Server, Organization, User (with CSV import) and Station, with license status and the
seat panels of ``actions``; ``csv_import``: the CSV import's pages (template, refusals);
``allocation``: the seats in use (assignments, leases, pools, denials, daily usage); ``shares``:
reserves and caps per organization and pool. License files
are installed in licenses/admin.py.
"""

from . import allocation, shares, tenancy  # noqa: F401  registers the model admins
