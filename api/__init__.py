"""The carescheduler service: a thin FastAPI app over the library.

It stores care days, plans, jobs, events and check-ins (SQLAlchemy; SQLite by default,
PostgreSQL through ``DATABASE_URL``), runs solve and replan jobs in a worker process, and
serves coordinators, integrations and the carers' phones (JWT bearer tokens). All
scheduling is the library's: this package only moves data between HTTP, the database and
``carescheduler``.
"""
