"""The Agreed Electronic Format: column definitions (columns), reader, writer."""
