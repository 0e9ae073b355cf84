"""Messages to customers: the pickup code by e-mail."""
