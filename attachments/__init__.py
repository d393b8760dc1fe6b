"""Files people attach to forms: stored once by content hash, outside process data, referenced by id."""
