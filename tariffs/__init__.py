"""tariffs app."""
