"""Languages people read: the Accept-Language choice and the one catalogue of messages."""
