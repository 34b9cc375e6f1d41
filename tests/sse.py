"""A small reader for text/event-stream responses, as a browser's EventSource sees them."""

from dataclasses import dataclass

import requests


@dataclass
class Event:
    id: str | None
    event: str
    data: str


def read_events(response: requests.Response, stop=lambda event: False):
    """Yield events from a streaming response until the server ends or stop(event)."""
    fields: dict[str, str] = {}
    for raw in response.iter_lines(decode_unicode=True):
        if raw is None:
            continue
        if raw == "":
            if "data" in fields:
                event = Event(fields.get("id"), fields.get("event", "message"), fields["data"])
                yield event
                if stop(event):
                    return
            fields = {}
        elif not raw.startswith(":"):
            name, _, value = raw.partition(":")
            fields[name] = value.removeprefix(" ")
