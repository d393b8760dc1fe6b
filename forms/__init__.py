"""JSON-schema forms: kinds of fields, detail tables, computed and conditional fields, field permissions."""
