"""Server-rendered web pages (Jinja2), served by the API process."""
