"""For tests of races: actions on threads (and database connections) of their own, released
together by one barrier. Used by the PostgreSQL race tests in payments/, marketplace/ and
security/."""

import threading

from django.db import connections


def run_at_once(actions, *, timeout: float = 60) -> list:
    """Run each zero-argument callable on a thread of its own, all released at the same moment.

    Returns, in the order given, what each action returned or the exception it raised (a thread
    cannot raise into the test: the test asserts on it). Each thread closes its database
    connections: a connection belongs to the thread that opened it.
    """
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = action()
        except Exception as error:  # noqa: BLE001 - handed to the test
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes
