"""What the what-if's property tests generate: specs for `deploy.intake_history.episode_events`."""

from __future__ import annotations

from hypothesis import strategies as st

episode_spec = st.fixed_dictionaries(
    {
        "referred": st.integers(0, 40),  # day of the referral after FIRST_DAY
        "minute": st.integers(0, 600),
        "onset_days": st.integers(1, 200),
        "deviating": st.booleans(),
        "radicular": st.integers(0, 9).map(lambda n: n == 0),
        "start_after": st.integers(1, 12),  # days from the intake to the first session
        "evaluations": st.lists(st.tuples(st.integers(5, 50), st.integers(0, 5)), max_size=4),
        "baseline": st.integers(1, 5),
        "closed_after": st.none() | st.integers(1, 40),
    }
)
