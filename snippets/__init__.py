"""Runnable code that the pages of the site embed, one module per topic."""
