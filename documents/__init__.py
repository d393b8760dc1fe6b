"""Document centre building blocks without Flask or a database: text extraction, fingerprints,
encryption, PDF protection and safe archive plans."""
