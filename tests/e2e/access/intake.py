"""intake: practices and verwijzers; nobody else reaches an episode."""

from shared.auth import Role
from tests.e2e.access import Matrix, only

MATRIX: Matrix = {
    ("POST", "/v1/referrals"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/episodes/{episode_id}"): only(Role.PRACTICE, Role.REFERRER),
}
