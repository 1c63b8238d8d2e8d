"""bwmigrate: move Bandwidth number management from the v1 Dashboard API to v2.

The package is layered; dependencies point down:

    cli  ->  engine  ->  client | store | limits  ->  plan | numbers | xml
             client  ->  credentials (what may be sent, and where)

`numbers`, `plan` and `xml` are the pure core: no I/O, no clock, no environment.
`sandbox` is a separate emulator of the v2 API with its own XML code.
"""

__version__ = "0.1.0"
