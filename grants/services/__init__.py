"""Use cases, one module per lifecycle stage: the only place rules live."""
