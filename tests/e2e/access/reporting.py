"""reporting: episodes for their practice and verwijzer; the network sees aggregates only."""

from shared.auth import Role
from tests.e2e.access import Matrix, only

MATRIX: Matrix = {
    ("GET", "/v1/episodes/{episode_id}"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/episodes/{episode_id}/letters"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/letters/{letter_id}"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/letters/{letter_id}/pdf"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/letters/{letter_id}/fhir"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/letters/{letter_id}/medvri"): only(Role.PRACTICE, Role.REFERRER),
    ("POST", "/v1/letters/{letter_id}/corrections"): only(Role.PRACTICE),
    ("GET", "/v1/access-log"): only(Role.PRACTICE, Role.SERVICE),
    # a practice gets its own figures (another practice's: 403, checked per request in the route)
    ("GET", "/v1/network/quality"): only(Role.NETWORK, Role.PRACTICE),
    ("GET", "/v1/network/quality.csv"): only(Role.NETWORK, Role.PRACTICE),
    # a practice gets its own visitation report (another practice's: 403, checked in the route)
    ("GET", "/v1/network/practices/{agb}/visitation"): only(Role.NETWORK, Role.PRACTICE),
    ("GET", "/v1/network/practices/{agb}/visitation.json"): only(Role.NETWORK, Role.PRACTICE),
    ("GET", "/v1/consumer/dead-letters"): only(Role.OPERATOR),
    ("GET", "/v1/consumer/dead-letters/{letter_id}"): only(Role.OPERATOR),
    ("POST", "/v1/consumer/dead-letters/redrive"): only(Role.OPERATOR),
    ("POST", "/v1/consumer/dead-letters/{letter_id}/discard"): only(Role.OPERATOR),
    ("GET", "/v1/consumer/parked"): only(Role.OPERATOR),
    ("GET", "/v1/operations/status"): only(Role.OPERATOR),
}
