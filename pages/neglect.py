"""The neglect theme: the reviews' learning, schools compared, the theme's gaps."""

from pages.theme_view import render

render("neglect")
