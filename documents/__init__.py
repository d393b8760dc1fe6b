"""The document centre: libraries, folders with inherited permissions, versions, the recycle bin, links to
requests and records (database modules), and the pure building blocks they use: text extraction,
fingerprints, encryption, PDF protection and safe archive plans (no database, no Flask)."""
