"""Command line: ``python -m stripe_sandbox --help``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from .app import Sandbox
from .server import SandboxServer


def _endpoint(text: str) -> tuple[str, str]:
    url, separator, secret = text.rpartition("=")
    if not separator or not url.startswith(("http://", "https://")) or not secret:
        raise argparse.ArgumentTypeError(f"expected URL=SECRET (e.g. http://...=whsec_...), "
                                         f"got {text!r}")
    return url, secret


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sandbox",
        description="Offline, stateful Stripe Connect sandbox. Point stripe-python at it with "
                    "stripe.api_base = 'http://127.0.0.1:PORT' and any sk_test_ key; Stripe.js "
                    "stand-in at http://127.0.0.1:PORT/v3/.",
        epilog="Sandbox-only helpers live under /_sandbox/ (deliveries, faults, disputes, "
               "onboarding, clock); see docs/sandbox.md.")
    parser.add_argument("--port", type=int, default=12111,
                        help="TCP port on 127.0.0.1 (0 picks a free one; default 12111)")
    parser.add_argument("--state", metavar="FILE",
                        help="JSON file that keeps the state across restarts (default: memory)")
    parser.add_argument("--reset", action="store_true",
                        help="start empty, ignoring (and overwriting) the --state file")
    parser.add_argument("--public-url", metavar="URL",
                        help="base URL used in onboarding, 3DS and dashboard links "
                             "(default http://127.0.0.1:PORT)")
    parser.add_argument("--webhook", action="append", type=_endpoint, default=[],
                        metavar="URL=SECRET",
                        help="platform webhook endpoint and its whsec_ secret (repeatable)")
    parser.add_argument("--connect-webhook", action="append", type=_endpoint, default=[],
                        metavar="URL=SECRET",
                        help="Connect webhook endpoint (connected-account events; repeatable)")
    parser.add_argument("--retry-delays", default="0.5,1,2", metavar="SECONDS,...",
                        help="delays between webhook attempts (default 0.5,1,2)")
    parser.add_argument("--max-attempts", type=int, default=4,
                        help="webhook attempts per delivery before giving up (default 4)")
    parser.add_argument("--delivery-timeout", type=float, default=5.0,
                        help="seconds to wait for a webhook receiver (default 5)")
    parser.add_argument("--no-automatic-payouts", dest="automatic_payouts", action="store_false",
                        help="do not pay out connected accounts on their schedules when the "
                             "clock advances (POST /_sandbox/advance_time)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")
    sandbox = Sandbox(
        state_path=args.state, reset=args.reset,
        public_url=args.public_url or f"http://127.0.0.1:{args.port}",
        retry_delays=tuple(float(d) for d in args.retry_delays.split(",") if d.strip()),
        max_attempts=args.max_attempts, delivery_timeout=args.delivery_timeout,
        automatic_payouts=args.automatic_payouts)
    existing = {(e["url"], e["_connect"]) for e in sandbox.store.all("webhook_endpoint")
                if not e.get("_deleted")}
    for urls, connect in ((args.webhook, False), (args.connect_webhook, True)):
        for url, secret in urls:
            # With --state the endpoints from the last run are still there: update, not add.
            for endpoint in sandbox.store.all("webhook_endpoint"):
                if (endpoint["url"], endpoint["_connect"]) == (url, connect):
                    endpoint["_secret"] = secret
            if (url, connect) not in existing:
                sandbox.create_webhook_endpoint(url, secret=secret, connect=connect)
    sandbox.store.save()
    server = SandboxServer(sandbox, port=args.port, verbose=args.verbose,
                           set_public_url=not args.public_url)
    print(f"stripe_sandbox listening on {server.url} (public URL {sandbox.public_url}, "
          f"platform {sandbox.platform_account_id})", flush=True)
    # `make run` stops the sandbox with SIGTERM: shut down as cleanly as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        sandbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
