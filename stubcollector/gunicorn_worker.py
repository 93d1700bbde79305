"""gunicorn's gthread worker, taking no new connection once it is stopping.

The worker stops after `max_requests` (gunicorn.conf.py) by setting `alive` to False while it
answers its last request, then leaves its event loop; but a connection waiting in the listen
queue at that moment was still accepted in the loop's last turn, and was closed unanswered when
the worker exited: one reset for every worker recycled (a 502 behind nginx, a webhook delivery
Stripe has to retry; bench/worker_recycle.py counts them). Left in the
listen queue instead, it is accepted by another worker of the same socket, or by the new one.
"""

from gunicorn.workers.gthread import ThreadWorker


class StoppingThreadWorker(ThreadWorker):
    def accept(self, server, listener):
        if self.alive:
            super().accept(server, listener)
