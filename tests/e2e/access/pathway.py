"""pathway: an episode's timeline for its practice and verwijzer; decision support for both; the network's
protocol adopted by the network, read by the network and its practices."""

from shared.auth import Role
from tests.e2e.access import Matrix, only

MATRIX: Matrix = {
    ("GET", "/v1/episodes/{episode_id}"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/escalations"): only(Role.PRACTICE, Role.REFERRER),
    ("POST", "/v1/guideline/evaluate"): only(Role.PRACTICE, Role.REFERRER),
    ("POST", "/v1/guideline/compare"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/access-log"): only(Role.PRACTICE, Role.SERVICE),
    ("GET", "/v1/consumer/dead-letters"): only(Role.OPERATOR),
    ("GET", "/v1/consumer/dead-letters/{letter_id}"): only(Role.OPERATOR),
    ("POST", "/v1/consumer/dead-letters/redrive"): only(Role.OPERATOR),
    ("POST", "/v1/consumer/dead-letters/{letter_id}/discard"): only(Role.OPERATOR),
    ("GET", "/v1/consumer/parked"): only(Role.OPERATOR),
    ("GET", "/v1/operations/status"): only(Role.OPERATOR),
    ("GET", "/v1/operations/practices"): only(Role.OPERATOR),
    ("POST", "/v1/network/protocols"): only(Role.NETWORK),
    ("GET", "/v1/network/protocols"): only(Role.NETWORK, Role.PRACTICE),
    ("POST", "/v1/network/protocols/what-if"): only(Role.NETWORK, Role.PRACTICE),
}
