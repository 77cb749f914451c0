"""intake: practices and verwijzers reach their episodes; the patient's own practice erases and reads the
access log; operators see retention lists (no clinical content); services gather access logs."""

from shared.auth import Role
from tests.e2e.access import Matrix, only

MATRIX: Matrix = {
    ("POST", "/v1/referrals"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/episodes/{episode_id}"): only(Role.PRACTICE, Role.REFERRER),
    ("GET", "/v1/episodes/{episode_id}/letter-data"): only(Role.SERVICE),
    ("GET", "/v1/episodes/{episode_id}/letter-parties"): only(Role.SERVICE),
    ("PUT", "/v1/episodes/{episode_id}/therapist"): only(Role.PRACTICE),
    ("PUT", "/v1/practices/{practice_agb}"): only(Role.PRACTICE, Role.OPERATOR),
    ("GET", "/v1/practices/{practice_agb}"): only(Role.PRACTICE, Role.OPERATOR),
    ("PUT", "/v1/referrers/{referrer_agb}"): only(Role.REFERRER, Role.OPERATOR),
    **{
        ("POST", f"/v1/episodes/{{episode_id}}/{command}"): only(Role.PRACTICE)
        for command in (
            "history",
            "assessment",
            "measurements",
            "treatment-plan",
            "sessions",
            "activity-logs",
            "report-consent",
            "closing",
        )
    },
    ("POST", "/v1/patients/{patient_id}/erasure"): only(Role.PRACTICE),
    ("GET", "/v1/patients/{patient_id}/access-log"): only(Role.PRACTICE),
    ("GET", "/v1/retention/due"): only(Role.OPERATOR),
    ("GET", "/v1/access-log"): only(Role.PRACTICE, Role.SERVICE),
    ("GET", "/v1/operations/status"): only(Role.OPERATOR),
}
