"""One router module per resource of the oversight API."""
