"""reporting: episodes for their practice and verwijzer; the network sees aggregates only."""

from shared.auth import Role
from tests.e2e.access import Matrix, only

MATRIX: Matrix = {
    ("GET", "/v1/episodes/{episode_id}"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/access-log"): only(Role.PRACTICE, Role.SERVICE),
}
