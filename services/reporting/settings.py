"""Reporting settings, read from the environment."""

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    # Not on the path of the pathway's decisions, but its transactions may be: the relays publish only what
    # committed before the oldest transaction still running. Measured at a steady 100 episodes/s: 100 ms
    # batches (with notifications alike) → relay-to-broker p50 31 ms, p99 279 ms end to end; 30 ms → 21 ms and
    # 250 ms, for the same CPU. (A relay that left other services' transactions out did not measure faster,
    # so how much of this is that wait is not settled.)
    consumer_batch_wait_ms: int = 30
    # Off the decisions' path, so it fetches with a longer wait than the pathway's 50 ms: tansu holds every
    # fetch that long anyway, and each fetch costs it and this consumer CPU. With notifications alike, at a
    # steady 190 episodes/s for a minute: reporting 10.8 → 8.6 s of CPU, notifications 11.1 → 9.0, tansu
    # 8.8 → 8.3; p99 end to end 225 → 216 ms. Its letters leave up to ~150 ms later.
    consumer_fetch_max_wait_ms: int = 200
    http_port: int = 8003
    # Where a browser reaches the pathway's page of the network's protocol and its "what if" (the dashboard links
    # to it through `GET /network/protocol`); unset: the pathway's address in PEER_URLS, which is right when the
    # services run on one host (the local runner) and not behind names only they resolve (compose sets it).
    protocol_page_url: str | None = None

    def protocol_page(self) -> str | None:
        """Where the dashboard's link to the network's protocol page goes (None: nowhere known)."""
        if self.protocol_page_url is not None:
            return self.protocol_page_url
        pathway = self.peer_urls.get("pathway")
        return None if pathway is None else pathway.rstrip("/") + "/network/protocol"
