"""The integrator's test kit: what a GP or practice system's own tests use to run against Ruggengraat.

Installed with the project, its pytest plugin (`ruggengraat.testing.plugin`) gives the fixtures
`ruggengraat`, `referrer_client`, `practice_client`, `subscriber_client` and `ruggengraat_sink`; the same
parts work without pytest: `started(run_dir)` or `connected()`, `Ruggengraat.caller(role, org)`,
`Ruggengraat.referral()`, `as_service_request()`, `Ruggengraat.send_referral()` and
`WebhookSink.subscribe()` / `WebhookSink.await_event()`. examples/integrator/ is a complete example.
"""

from ruggengraat.testing.sink import Delivery, WebhookSink
from ruggengraat.testing.system import Caller, Ruggengraat, as_service_request, connected, random_bsn, started

__all__ = [
    "Caller",
    "Delivery",
    "Ruggengraat",
    "WebhookSink",
    "as_service_request",
    "connected",
    "random_bsn",
    "started",
]
