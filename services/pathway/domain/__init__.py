"""Pure domain of the pathway service: rules and values, no I/O, no clock reads.

- `guideline/`: the KNGF guideline engine, versioned rules with reason codes.
- `episode_facts`: an episode's intake events as the engine's facts.
- `reactions`: which guideline decisions the pathway records, given what it recorded before.
- `evaluation_schedule`: the evaluation plans (when evaluations fall due and become overdue, what each
  intake event changes in the plan, what a firing timer raises); the store writes the timers from them.
- `episode_view`: the episode view as a fold of the pathway's own events.
"""
