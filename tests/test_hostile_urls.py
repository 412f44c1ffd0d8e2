"""Hand-edited addresses get a 4xx, never a 500 (ids and page numbers past what a
database column holds used to overflow inside the driver)."""

import pytest

HUGE = "99999999999999999999"


@pytest.mark.parametrize("url", [
    f"/attempts/{HUGE}",
    "/attempts/0",
    f"/instructor/submissions/{HUGE}",
    f"/instructor/gradebook?page={HUGE}",
    "/instructor/gradebook?page=-1",
    "/instructor/gradebook?page=0",
    f"/instructor/submissions?after=2026-01-01T00:00:00_{HUGE}",
    f"/instructor/submissions?before=2026-01-01T00:00:00_{HUGE}",
    "/instructor/submissions?after=2026-01-01T00:00:00_-5",
    "/instructor/submissions?after=not-a-cursor",
    "/instructor/submissions?status=everything",
])
def test_out_of_range_addresses_are_refused_cleanly(auth, client, url):
    auth.instructor()
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert "Traceback" not in response.get_data(as_text=True)
