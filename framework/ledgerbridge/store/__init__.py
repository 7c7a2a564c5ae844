"""The store: SQLAlchemy models, migrations, encryption of secrets, and repositories."""
