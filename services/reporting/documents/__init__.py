"""What reporting renders for people, from decided content: neither decisions nor storage.

- `letters`: a composed letter as HTML, PDF/A, a FHIR document and Edifact MEDVRI, with the letterhead they share
  and the HTML template (`letters/templates/`).
- `network`: the network's quality report as CSV, the yearly visitation report as PDF.
- `dashboard/`: the network dashboard page with its own copy of Chart.js (static files, served by `routes.network`).
"""
