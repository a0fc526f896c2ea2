"""The API's routes, one module per audience: days (coordinators and integrations), jobs,
and the carers' own (``/v1/me``)."""
