"""The declarative state machines, one module per lifecycle. No Flask imports here."""
