"""Running the checks: the watermark, detection over what changed, and the
reconciliation of the alert store. The one caller of both `metareg.detection` and
`metareg.alerts`."""
