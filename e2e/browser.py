"""What the browser journeys share: logging a test user in through a log-in form."""

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
