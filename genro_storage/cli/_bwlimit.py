"""``--bwlimit``: a token bucket that holds transfers to a number of bytes per second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

__all__ = ["RateLimit"]


class RateLimit:
    """A token bucket refilled at ``rate`` bytes per second, holding at most one second
    of traffic, and empty at the start: moving N bytes takes at least N / rate seconds.

    :meth:`consume` takes the bytes just moved and sleeps while the bucket is in debt;
    threads share one bucket (each sleeps off the debt it finds).
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = float(rate)
        self.capacity = self.rate  # one second of burst after an idle spell
        self._tokens = 0.0
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def consume(self, amount: int) -> None:
        """Account for ``amount`` bytes; returns once the average is back under the rate."""
        if amount <= 0:
            return
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= amount
            debt = -self._tokens
        if debt > 0:
            self._sleep(debt / self.rate)

    def chunks(self, source: Iterable[bytes]) -> Iterator[bytes]:
        """``source``'s chunks, each one released at the limited rate."""
        for chunk in source:
            self.consume(len(chunk))
            yield chunk
