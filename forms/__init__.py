"""JSON-schema forms: validation, coercion of posted values, and what the renderer needs."""
