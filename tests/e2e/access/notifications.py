"""notifications: a subscriber reaches only its own subscriptions and deliveries."""

from shared.auth import Role
from tests.e2e.access import Matrix, only

MATRIX: Matrix = {
    ("POST", "/v1/subscriptions"): only(Role.SUBSCRIBER),
    ("GET", "/v1/subscriptions/{subscription_id}"): only(Role.SUBSCRIBER),
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): only(Role.SUBSCRIBER),
}
