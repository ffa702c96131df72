"""The two requests the offline pages' script (cms/static/cms/offline.js) makes on its own: a
completion or answers kept on the phone and sent when the signal returns, and a lesson fetched
ahead so that it can be read offline. Views answer the first with JSON, not a redirect, and
record nothing for the second."""

SYNC_HEADER = "X-Aware-Offline-Sync"
PREFETCH_HEADER = "X-Aware-Prefetch"


def offline_sync_requested(request) -> bool:
    """Sent from the phone's queue: answer with JSON ({"message", "url"}), not a redirect."""
    return request.headers.get(SYNC_HEADER) == "1"


def prefetch_requested(request) -> bool:
    """Fetched ahead by the service worker, not opened by the learner: record no opening."""
    return request.headers.get(PREFETCH_HEADER) == "1"
