"""What gunicorn serves: ``gunicorn wsgi:app``. A bad setting stops with one line."""

import sys

from config import ConfigError
from grants import create_app

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"Configuration error: {error}")
