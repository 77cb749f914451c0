"""The intake service's domain: the episode as the practice records it (`episode`, `commands`, `activity_labels`),
who may see or act on what (`access`), the register's rules (`register`), retention (`retention`) and
Idempotency-Key (`idempotency`). Pure: no I/O, no clock reads, no SQL; the store (`services.intake.store`) loads and
writes, the handlers (`services.intake.handlers`) put the two together."""
