-- The evaluation plan is decided from the episode's events (domain/evaluation_plan.py): which evaluations
-- were recorded is what the pathway's EvaluationCompleted events say, and whether an episode was closed what
-- the pathway's copies of intake's events say (EpisodeClosed). The tables that kept the same facts a second
-- time go.
DROP TABLE evaluations_recorded;
DROP TABLE timer_episodes_closed;
