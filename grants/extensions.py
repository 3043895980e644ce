"""The Flask extensions, created unbound so every module can import them."""

from flask_babel import Babel
from flask_mail import Mail
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from grants.orm import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
security = Security()
babel = Babel()
mail = Mail()
csrf = CSRFProtect()
