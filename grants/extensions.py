"""The Flask extensions, created unbound so every module can import them."""

from flask_babel import Babel
from flask_mail import Mail
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from grants.orm import Base
from grants.totp import ReplayProofTotp
from notifications.mailer import SecurityMailUtil

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
# Given here: Flask-Security takes these classes only when constructed, not in init_app.
security = Security(totp_cls=ReplayProofTotp, mail_util_cls=SecurityMailUtil)
babel = Babel()
mail = Mail()
csrf = CSRFProtect()
