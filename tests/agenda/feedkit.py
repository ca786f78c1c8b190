"""Builders for agenda feeds used by the tests."""
import json


def json_feed(*items: dict) -> bytes:
    return json.dumps({"items": list(items)}).encode()


def event(uid: str, title: str, starts_at: str, **extra) -> dict:
    return {"id": uid, "title": title, "starts_at": starts_at, **extra}


def ics_feed(*events: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Charlandero tests//ES"]
    for body in events:
        lines += ["BEGIN:VEVENT", *body.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(line.strip() for line in lines) + "\r\n").encode()
