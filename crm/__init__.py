"""Customer relationship work that spans records, processes and the organisation: complaints from the portal."""
