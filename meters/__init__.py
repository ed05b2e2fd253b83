"""meters app."""
