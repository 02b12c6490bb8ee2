# Copy to instance/config.py to override the defaults on this machine.
# Environment variables still win over what is set here.

# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://awards@localhost/awards"
# MAIL_SERVER = "localhost"
# MAIL_PORT = 1025
# MAIL_DEFAULT_SENDER = "E-waste Awards <awards@example.org>"
# BASE_URL = "http://127.0.0.1:5000"
