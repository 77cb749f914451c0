"""Letters to the GP, decided: the facts folded from an episode's events (`content`), which letters fall due and
what each says in Dutch (`content`, `wording`), and one episode as the letters follow it (`episode`). Rendering
is in `services.reporting.documents.letters`."""
