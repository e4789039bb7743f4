"""The benchmarks' locustfile: users that never wait, so Locust drives the demo shop flat out.

Used by the timing benchmark (lateness while the machine is busy) and by the load benchmark
(a drill-driven Locust stage against raw ``locust --headless`` with this same file). Locust
loads it by path in its own process; kunren never imports it.
"""

from __future__ import annotations

from locust import FastHttpUser, constant, task


class ShopVisitor(FastHttpUser):
    """Home page, a search and the booking form, back to back with no think time."""

    wait_time = constant(0)

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="/")

    @task(2)
    def search(self) -> None:
        self.client.get("/search?q=tea", name="/search")

    @task(1)
    def booking_form(self) -> None:
        self.client.get("/book", name="/book")
