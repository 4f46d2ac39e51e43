"""Celery tasks of seat allocation. The every-minute beat entry is created by name elsewhere."""

from celery import shared_task

from .services.leases import lease_release_idle


@shared_task(name="seats.tasks.release_idle_leases")
def release_idle_leases() -> int:
    """Release Concurrent seats idle longer than IWP_CONCURRENT_IDLE_MINUTES and end their sessions. Safe to run twice."""
    return len(lease_release_idle())
