"""Flask-WTF form classes, one module per stage."""
