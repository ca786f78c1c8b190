"""What web writes to its log when someone sends it what it refuses: one line each, no traceback."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_wrong_host_is_one_warning_line(live):
    before = len(live.log("web"))
    hosts = ["evil.example", "x" * 2000]  # an attacker chooses the Host header, and its length
    for host in hosts:
        assert live.request("GET", "/healthz", headers={"Host": host}).status == 400
    assert live.get("/healthz").status == 200  # the next request after them: the log has caught up

    written = live.log("web")[before:]
    refused = [line for line in written.splitlines() if "Invalid HTTP_HOST header" in line]
    assert len(refused) == len(hosts), written
    assert all(" WARNING django.security.DisallowedHost: " in line for line in refused), refused
    assert all(len(line) < 400 for line in refused)
    assert "Traceback" not in written and "ERROR" not in written
