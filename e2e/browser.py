"""What the browser journeys share: logging a test user in through a log-in form, and
photographing a page for docs/screenshots/."""

import os
from pathlib import Path

from accounts.tests.factories import DEFAULT_PASSWORD


def log_in(page, site, username, *, form="/accounts/login/"):
    """Log `username` in with the factories' password through the log-in form at `form` (the
    site's, or "/admin/login/"), starting from no cookies so one page can switch users, and wait
    until the browser has left the form (it stays there when the log-in is refused)."""
    page.context.clear_cookies()
    page.goto(f"{site}{form}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def photograph(page, name: str, widths=(390, 1280)) -> None:
    """With SCREENSHOTS_DIR set (scripts/screenshots.sh), a full-page photograph of the page at a
    phone's and a laptop's width, saved there as <name>-<width>.png; otherwise nothing."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)
