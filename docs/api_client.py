"""A seat API client: check a seat out, keep it with heartbeats, check it in on exit (SIGINT/TERM).
Standard library only. IWP_URL, IWP_API_KEY, IWP_USERNAME and IWP_CLIENT_ID say where and who."""

import json
import os
import signal
import threading
import urllib.request

URL, KEY = os.environ["IWP_URL"].rstrip("/") + "/api/v1", os.environ["IWP_API_KEY"]


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(URL + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {KEY}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:  # 4xx/5xx raise HTTPError
        return json.loads(response.read() or "null")


stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
lease = call(
    "POST",
    "/leases",
    {"username": os.environ["IWP_USERNAME"], "client_id": os.environ["IWP_CLIENT_ID"]},
)
print(f"checked out lease {lease['id']} ({lease['license_type']}, {lease['method']})", flush=True)
try:
    while not stop.wait(lease["heartbeat_seconds"] or 60):  # half the lease time
        call("POST", f"/leases/{lease['id']}/heartbeat")
finally:
    call("DELETE", f"/leases/{lease['id']}")
    print("checked in", flush=True)
