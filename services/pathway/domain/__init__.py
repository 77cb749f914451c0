"""Pure domain of the pathway service: rules and values, no I/O, no clock reads.

- `guideline/`: the KNGF guideline engine, versioned rules with reason codes.
- `episode_facts`: an episode's intake events as the engine's facts.
- `reactions`: which guideline decisions the pathway records, given what it recorded before.
- `evaluation_schedule`: the evaluation rhythm (when evaluations fall due and become overdue) and what each
  intake event changes in the plan.
- `evaluation_plan`: an episode's evaluation plan folded from its events, and what each change decides (the
  timers the store writes, the evaluations announced) and what a firing timer raises.
- `episode_view`: the episode view as a fold of the pathway's own events.
"""
