"""HTTP boundary: the JSON API and the HTML pages."""
