"""What notifications shows a person in the browser: the operator's page (`operations/`)."""
