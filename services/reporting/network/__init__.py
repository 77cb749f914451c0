"""The regional network's view of quality: a read model per episode (folded from a minimised copy of the
consumed events), figures per practice and month with small counts suppressed, the JSON/CSV API, and the
dashboard page with its own copy of Chart.js."""
