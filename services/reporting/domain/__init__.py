"""Reporting's decisions, pure: no I/O, no clock reads, no SQL.

- `letters`: what a letter to the GP says and when it falls due, folded from an episode's events.
- `network`: what the regional network's view keeps of an episode, its counts, the disclosure control that
  rounds them, and the figures, trends, funnels and visitation report summed from the rounded table.
- `overview`: the change a run of events makes to an episode's overview row.
- `outcomes`: the outcome scores (QBPDS, NPRS, PSK) and minimal clinically important change, scored with the
  guideline's versioned outcome measures in `shared.outcome_measures` (the pathway's source too).
"""
