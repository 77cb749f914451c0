"""Letters to the GP: composed in Dutch from an episode's events, rendered as HTML, PDF and FHIR."""
