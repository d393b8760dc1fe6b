"""Full-text search over documents, records and articles, for Chinese and other languages, on SQLite and PostgreSQL."""
