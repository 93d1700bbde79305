"""The HTTP half of scripts/smoke_hosts.sh: checks a running `make serve HOSTS=2` (S3 on moto).

    smoke_hosts.py SITE STATE_DIR

SITE is nginx; STATE_DIR/serve.env names each host's page and webhook ports and pids. It checks
that nothing depends on one app host's memory or disk: a session made on host 1 is valid on
host 2; a photo uploaded through host 1 is processed by whichever worker and read back through
host 2 and the proxy; a purchase through the proxy is paid by a webhook that went through the
proxy's webhook pool, and the visitor's copy of that listing's page that host 1 had cached is no
longer served; a rate limit counts requests to both hosts together. Then host 1's page
gunicorn (master and workers) is killed with SIGKILL while requests wait on it, and the proxy must
answer them and what follows from host 2, until make serve has started host 1 again.
"""

import http.cookiejar
import io
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

SANDBOX_KEY = "sk_test_sandbox0000000000000000000000000"
# The buyer's password-change form: PASSWORD_CHANGE_RATE_PER_USER (accounts/views.py) allows 10
# an hour per user; an hour's window makes it unlikely that a window ends during the check.
PASSWORD_CHANGE_LIMIT = 10

site, state = sys.argv[1], Path(sys.argv[2])
results: list[tuple[str, bool]] = []


def serve_env() -> dict[str, str]:
    """serve.env, the newest line of each name (a restarted process adds one)."""
    env = {}
    for line in (state / "serve.env").read_text().split():
        name, _, value = line.partition("=")
        env[name] = value
    return env


ENV = serve_env()
HOST = {i: f"http://127.0.0.1:{ENV[f'web_{i}_port']}" for i in (1, 2)}
WEB_PORTS = {ENV["web_1_port"], ENV["web_2_port"]}
HOOK_PORTS = {ENV["hook_1_port"], ENV["hook_2_port"]}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One visitor: a cookie jar shared by every address it talks to (the hosts and the proxy are
    all 127.0.0.1, as one site's hosts are one name to a browser)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, url, data=None, headers=None, timeout=30):
        """(status, headers, body); redirects are answers, not followed."""
        req = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def page(self, url, **kwargs) -> tuple[int, str]:
        status, _, body = self.request(url, **kwargs)
        return status, body.decode(errors="replace")

    def cookie(self, name) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def post_form(self, base, path, fields):
        """GET the form for its CSRF token, then POST it (as a browser would, with a Referer)."""
        status, page = self.page(f"{base}{path}")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not match:
            return status, page
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": match.group(1)}).encode()
        return self.page(f"{base}{path}", data=body, headers={"Referer": f"{base}{path}"})

    def log_in(self, base, username, password) -> bool:
        status, _ = self.post_form(base, "/accounts/login/", {"username": username, "password": password})
        return status == 302 and bool(self.cookie("sessionid"))


def check(name, ok):
    results.append((name, bool(ok)))
    print(f"  {'ok  ' if ok else 'FAIL'} {name}", flush=True)
    return ok


def until(predicate, seconds=60, every=0.25):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


def upstream_port(headers) -> str:
    """The port of the host that answered last (X-Upstream lists every host nginx tried)."""
    value = headers.get("X-Upstream", "") if headers else ""
    return value.split(",")[-1].strip().rpartition(":")[2]


def demo_passwords() -> dict[str, str]:
    seed_log = (state / "seed_demo.log").read_text()
    return dict(re.findall(r"^\s{2}(\S+) / (\S+)", seed_log, re.MULTILINE))


def port_refuses(port) -> bool:
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
    except OSError:
        return True
    return False


# -- the checks -----------------------------------------------------------------------------------

def proxy_spreads_pages():
    seen = set()
    for _ in range(8):
        status, headers, _ = Browser().request(f"{site}/readyz")
        if status != 200:
            return check(f"/readyz through the proxy is 200 (was {status})", False)
        seen.add(upstream_port(headers))
    check(f"the proxy spreads pages over both hosts' page pools (answered by {sorted(seen)})",
          seen == WEB_PORTS)


def session_moves_between_hosts(buyer, password):
    check("the demo buyer logs in on host 1", buyer.log_in(HOST[1], "buyer", password))
    status, page = buyer.page(f"{HOST[2]}/accounts/profile/")
    check(f"host 2 knows that session (its profile page: {status})", status == 200 and "Log out" in page)
    status, page = buyer.page(f"{site}/accounts/profile/")
    check(f"so does the proxy (profile page: {status})", status == 200 and "Log out" in page)


def photo_through_one_host_read_through_the_other(passwords):
    from PIL import Image  # the virtualenv's Pillow, which the photo task uses too

    seller = Browser()
    name = next(n for n, p in passwords.items() if n not in {"buyer", "staff"})
    if not check(f"the demo seller {name} logs in on host 1", seller.log_in(HOST[1], name, passwords[name])):
        return
    _, body = seller.page(f"{site}/api/listings/?page_size=100")
    mine = [item["id"] for item in json.loads(body)["results"] if item["seller"]["username"] == name]
    listing_id = None
    for candidate in mine:
        status, page = seller.page(f"{HOST[1]}/listings/{candidate}/photos/")
        if status == 200 and 'enctype="multipart/form-data"' in page:
            listing_id, slots_before = candidate, page.count('class="photo-slot"')
            break
    if not check(f"a listing of {name}'s with room for a photo (#{listing_id})", listing_id):
        return

    picture = io.BytesIO()
    Image.new("RGB", (900, 600), (190, 40, 90)).save(picture, "JPEG", quality=85)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="two-hosts.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n")
    body = head.encode() + picture.getvalue() + f"\r\n--{boundary}--\r\n".encode()
    url = f"{HOST[1]}/listings/{listing_id}/photos/"
    status, _, _ = seller.request(url, data=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": url})
    check(f"host 1 takes the upload ({status})", status == 302)

    def processed_on_host_2():
        status, page = seller.page(f"{HOST[2]}/listings/{listing_id}/photos/")
        thumbnails = re.findall(r'<img src="([^"]+)" alt="Photo \d+', page)
        ready = [src for src in thumbnails if "stub-placeholder" not in src]
        return ready if status == 200 and len(ready) == slots_before + 1 else None

    ready = until(processed_on_host_2, 90)
    if not check("a worker processed it, and host 2's photo page shows it", ready):
        return
    newest = ready[-1].replace("&amp;", "&")
    check(f"the photo's address is the shared bucket, not a host ({newest.split('?')[0]})",
          newest.startswith(f"http://127.0.0.1:{ENV['moto_port']}/"))
    status, headers, data = Browser().request(newest)
    try:
        size = Image.open(io.BytesIO(data)).size
    except OSError:
        size = None
    check(f"the photo host 2 links to reads back ({status}, {headers.get('Content-Type')}, {size} pixels)",
          status == 200 and headers.get("Content-Type", "").startswith("image/") and size)
    _, page = seller.page(f"{site}/listings/{listing_id}/photos/")
    check("the proxy's photo page links to the same file", ready[-1] in page)


def buy_through_the_proxy(buyer):
    status, body = buyer.page(f"{site}/api/listings/")
    listing_id = None
    for item in json.loads(body)["results"]:
        status, body = buyer.page(f"{site}/marketplace/payment-compatibility/?listing_id={item['id']}")
        if status == 200 and json.loads(body).get("purchasable"):
            listing_id, listing_path = item["id"], urllib.parse.urlsplit(item["url"]).path
            break
    if not check(f"a listing the buyer can buy (#{listing_id})", listing_id):
        return
    # A visitor's copy of the page, which host 1 files in the shared page cache.
    for _ in range(2):
        _, before = Browser().page(f"{HOST[1]}{listing_path}")
    check("host 1 shows it Available to a visitor", 'badge-ok">Available' in before)
    body = json.dumps({"listing_id": listing_id, "shipping_name": "Ada Lovelace",
                       "shipping_line1": "12 Analytical Row", "shipping_city": "Springfield",
                       "shipping_state": "IL", "shipping_postal_code": "62701", "shipping_country": "US"})
    status, _, answer = buyer.request(f"{site}/payments/create-payment-intent/", body.encode(), {
        "Content-Type": "application/json", "Accept": "application/json",
        "X-CSRFToken": buyer.cookie("csrftoken"), "Referer": f"{site}/checkout/{listing_id}/"})
    if not check(f"checkout through the proxy creates the PaymentIntent ({status})", status == 200):
        print(answer[:500])
        return
    checkout = json.loads(answer)
    intent_id = checkout["client_secret"].split("_secret_")[0]
    sandbox = f"http://127.0.0.1:{ENV['sandbox_port']}"
    status, _, body = Browser().request(
        f"{sandbox}/v1/payment_intents/{intent_id}/confirm",
        urllib.parse.urlencode({"payment_method": "pm_card_visa"}).encode(),
        {"Authorization": f"Bearer {SANDBOX_KEY}", "Stripe-Account": checkout["stripe_account"]})
    check("the card payment succeeds on the seller's account",
          status == 200 and json.loads(body)["status"] == "succeeded")

    def paid():
        status, body = buyer.page(f"{site}/payments/orders/{checkout['order_id']}/status/",
                                  headers={"Accept": "application/json"})
        return status == 200 and json.loads(body)["status"] == "paid"

    check(f"a worker marked order #{checkout['order_id']} paid", until(paid, 90))
    _, after = Browser().page(f"{HOST[1]}{listing_path}")
    check("and host 1 no longer shows the visitor's copy: it says Sold",
          'badge-ok">Available' not in after and ">Sold<" in after)

    access = (state / "nginx" / "access.log").read_text()
    deliveries = re.findall(r'"POST /payments/webhook/connect/ HTTP/1\.1" (\d+) \d+ upstream=(\S+)', access)
    ports = {upstream.rpartition(":")[2] for status, upstream in deliveries if status == "200"}
    check(f"the sandbox's deliveries came through the proxy's webhook pool (answered by {sorted(ports)})",
          ports and ports <= HOOK_PORTS)
    status, headers, _ = Browser().request(f"{site}/payments/webhook/", b"{}", {
        "Content-Type": "application/json", "Stripe-Signature": "t=1,v1=forged"})
    port = upstream_port(headers)
    check(f"a forged delivery to the proxy is refused by a webhook host ({status}, port {port})",
          status == 400 and port in HOOK_PORTS)


def rate_limit_counts_both_hosts(buyer, password):
    answers = []
    for attempt in range(PASSWORD_CHANGE_LIMIT + 1):
        base = HOST[1 + attempt % 2]
        status, _ = buyer.post_form(base, "/accounts/password/change/", {
            "old_password": "not-the-password", "new_password1": "Ab3-new-password-x",
            "new_password2": "Ab3-new-password-x"})
        answers.append(status)
    check(f"password changes alternating between the hosts: {PASSWORD_CHANGE_LIMIT} refused as wrong "
          f"(400), then 429 though each host saw only {PASSWORD_CHANGE_LIMIT // 2 + 1} (got {answers})",
          answers == [400] * PASSWORD_CHANGE_LIMIT + [429])
    check("the buyer's password did not change", buyer.log_in(site, "buyer", password))


def kill_a_host_mid_request(buyer):
    import psycopg

    web_pid = int(ENV["web_1_pid"])
    dsn = f"postgresql://postgres@127.0.0.1:{ENV['pg_port']}/stubcollector"
    database = psycopg.connect(dsn)
    # Requests wait inside the gunicorns, on the listings table, until it is unlocked.
    database.execute("LOCK TABLE marketplace_listing IN ACCESS EXCLUSIVE MODE")
    answers: list = []

    def ask():
        try:
            url = f"{site}/api/listings/?two-hosts={uuid.uuid4().hex}"
            status, headers, _ = buyer.request(url, timeout=60)
            answers.append((status, headers.get("X-Upstream", "")))
        except OSError as error:
            answers.append((repr(error), ""))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    monitor = psycopg.connect(dsn, autocommit=True)

    def waiting():
        (count,) = monitor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = 'stubcollector'"
        ).fetchone()
        return count >= len(threads)

    check("four page requests through the proxy are waiting inside the gunicorns", until(waiting, 30, 0.1))
    os.killpg(web_pid, signal.SIGKILL)
    check(f"host 1's page gunicorn (pid {web_pid}, master and workers) killed with SIGKILL mid-request; "
          "its port refuses", until(lambda: port_refuses(ENV["web_1_port"]), 5, 0.05))
    database.rollback()
    database.close()
    for thread in threads:
        thread.join(60)
    check(f"every waiting request was answered ({answers})",
          len(answers) == len(threads) and all(status == 200 for status, _ in answers))
    check("those host 1 had taken were sent on to host 2 by the proxy",
          any(tried.split(", ") == [f"127.0.0.1:{ENV['web_1_port']}", f"127.0.0.1:{ENV['web_2_port']}"]
              for _, tried in answers))

    statuses, ports = [], set()
    for _ in range(10):
        status, headers, _ = buyer.request(f"{site}/api/listings/?after-kill={uuid.uuid4().hex}")
        statuses.append(status)
        ports.add(upstream_port(headers))
    check(f"the proxy keeps serving: 10 of 10 pages answered 200 (by {sorted(ports)})",
          statuses == [200] * 10)

    def restarted():
        env = serve_env()
        return env["web_1_pid"] != str(web_pid) and not port_refuses(env["web_1_port"])

    check("make serve starts host 1's page gunicorn again", until(restarted, 60))

    def back_in_rotation():
        seen = set()
        for _ in range(6):
            status, headers, _ = Browser().request(f"{site}/readyz")
            if status == 200:
                seen.add(upstream_port(headers))
        return seen == WEB_PORTS

    check("and the proxy sends pages to it again", until(back_in_rotation, 60, 1))


def main():
    passwords = demo_passwords()
    buyer = Browser()
    proxy_spreads_pages()
    session_moves_between_hosts(buyer, passwords["buyer"])
    photo_through_one_host_read_through_the_other(passwords)
    buy_through_the_proxy(buyer)
    rate_limit_counts_both_hosts(buyer, passwords["buyer"])
    kill_a_host_mid_request(buyer)


try:
    main()
except Exception:  # a crash is a failed smoke with its traceback, like a failed check
    import traceback

    traceback.print_exc()
    results.append(("smoke_hosts.py ran to the end", False))
sys.exit(0 if results and all(ok for _, ok in results) else 1)
