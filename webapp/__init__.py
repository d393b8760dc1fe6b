"""The web application, its configuration and the flowdesk command line."""
