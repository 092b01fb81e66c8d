"""The unified ITMO index: writing records with their history, and reading them."""
