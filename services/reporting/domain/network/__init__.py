"""The regional network's view of quality, decided: what is kept of an episode (`facts`, folded from a minimised
copy of the consumed events), what a practice counts per month (`counts`), the controlled rounding that
publishes them (`disclosure`), and the figures, trends, funnels (`indicators`, `figures`, `words`) and the
yearly visitation report (`visitation`) summed from the rounded table."""
