"""What the passes read from the index."""
