"""Storage: the database engine, tables, migrations and the repositories' base."""
