"""Process definitions: deploy, validate, version, publish."""
