"""Page routers: login, student pages, TA pages, instructor pages."""
