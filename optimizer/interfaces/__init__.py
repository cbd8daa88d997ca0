"""The interfaces: the command line (and any app), thin shells over the public API."""
