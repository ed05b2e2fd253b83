"""The tariff API: /api/tariffs/ and its previews."""
