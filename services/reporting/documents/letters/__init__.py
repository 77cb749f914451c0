"""A composed letter rendered: HTML (`html`), PDF/A-2b (`pdf`), FHIR document (`fhir_document`), MEDVRI (`medvri`)."""
