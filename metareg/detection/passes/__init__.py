"""Running the rules over candidates: the full and incremental finding, one proposed action."""
