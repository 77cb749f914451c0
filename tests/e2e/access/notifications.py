"""notifications: a subscriber reaches only its own subscriptions, deliveries and escalations; operators see
every dead letter, read only, without the events; the episode's practice and other services read the
access log of catch-up reads."""

from shared.auth import Role
from tests.e2e.access import Matrix, only

SUBSCRIBER_ONLY = only(Role.SUBSCRIBER)

MATRIX: Matrix = {
    ("POST", "/v1/subscriptions"): SUBSCRIBER_ONLY,
    ("GET", "/v1/subscriptions"): SUBSCRIBER_ONLY,
    ("GET", "/v1/subscriptions/{subscription_id}"): SUBSCRIBER_ONLY,
    ("DELETE", "/v1/subscriptions/{subscription_id}"): SUBSCRIBER_ONLY,
    ("POST", "/v1/subscriptions/{subscription_id}/pause"): SUBSCRIBER_ONLY,
    ("POST", "/v1/subscriptions/{subscription_id}/resume"): SUBSCRIBER_ONLY,
    ("POST", "/v1/subscriptions/{subscription_id}/secret/rotate"): SUBSCRIBER_ONLY,
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): SUBSCRIBER_ONLY,
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}"): SUBSCRIBER_ONLY,
    ("GET", "/v1/subscriptions/{subscription_id}/events"): SUBSCRIBER_ONLY,
    ("POST", "/v1/subscriptions/{subscription_id}/replay"): SUBSCRIBER_ONLY,
    ("GET", "/v1/subscriptions/{subscription_id}/dead-letters"): SUBSCRIBER_ONLY,
    ("POST", "/v1/subscriptions/{subscription_id}/dead-letters/redrive"): SUBSCRIBER_ONLY,
    ("GET", "/v1/escalations"): SUBSCRIBER_ONLY,
    ("POST", "/v1/escalations/{event_id}/acknowledge"): SUBSCRIBER_ONLY,
    ("GET", "/v1/dead-letters"): only(Role.OPERATOR),
    ("GET", "/v1/access-log"): only(Role.PRACTICE, Role.SERVICE),
    ("GET", "/v1/consumer/dead-letters"): only(Role.OPERATOR),
    ("GET", "/v1/consumer/dead-letters/{letter_id}"): only(Role.OPERATOR),
    ("POST", "/v1/consumer/dead-letters/redrive"): only(Role.OPERATOR),
    ("POST", "/v1/consumer/dead-letters/{letter_id}/discard"): only(Role.OPERATOR),
    ("GET", "/v1/consumer/parked"): only(Role.OPERATOR),
    ("GET", "/v1/operations/status"): only(Role.OPERATOR),
    ("GET", "/v1/operations/overview"): only(Role.OPERATOR),
    ("GET", "/v1/operations/subscriptions"): only(Role.OPERATOR),
    ("POST", "/v1/operations/subscriptions/{subscription_id}/pause"): only(Role.OPERATOR),
    ("POST", "/v1/operations/subscriptions/{subscription_id}/resume"): only(Role.OPERATOR),
    ("GET", "/v1/operations/services/{service}/dead-letters"): only(Role.OPERATOR),
    ("GET", "/v1/operations/services/{service}/parked"): only(Role.OPERATOR),
    ("POST", "/v1/operations/services/{service}/dead-letters/{letter_id}/redrive"): only(Role.OPERATOR),
    ("POST", "/v1/operations/services/{service}/dead-letters/{letter_id}/discard"): only(Role.OPERATOR),
}
