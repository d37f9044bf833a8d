"""Everything that does I/O: one module per runtime, session storage, the command line and the
benchmarks.  Installed as ``sansio_mtdc.adapters``; the pure core never imports it."""
