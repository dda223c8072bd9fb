"""The watchdog: one thread keeps every time limit; finished pages leave it at once."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from pdfocr.watchdog import Watchdog


def test_a_future_past_its_deadline_is_expired_and_one_done_in_time_is_not() -> None:
    watchdog = Watchdog()
    expired = threading.Event()
    spared = threading.Event()
    late: Future[None] = Future()
    prompt: Future[None] = Future()
    watchdog.arm(prompt, 0.2, spared.set)
    watchdog.arm(late, 0.2, expired.set)
    prompt.set_result(None)
    assert expired.wait(10)
    assert not spared.is_set()
    assert watchdog.armed == 0
    watchdog.close()


def test_deadlines_are_kept_in_order_whatever_the_order_they_were_set() -> None:
    watchdog = Watchdog()
    order: list[str] = []
    both = threading.Event()

    def expire(name: str) -> None:
        order.append(name)
        if len(order) == 2:
            both.set()

    watchdog.arm(Future(), 0.6, lambda: expire("long"))
    watchdog.arm(Future(), 0.1, lambda: expire("short"))
    assert both.wait(10)
    assert order == ["short", "long"]
    watchdog.close()


def test_a_finished_page_does_not_stay_in_the_watchdog() -> None:
    # Its result (a page's PDF) must not be held until the deadline passes.
    watchdog = Watchdog()
    futures: list[Future[bytes]] = [Future() for _ in range(100)]
    for future in futures:
        watchdog.arm(future, 300, lambda: None)
    assert watchdog.armed == 100
    for future in futures:
        future.set_result(b"x" * 1000)
    assert watchdog.armed == 0
    watchdog.close()
