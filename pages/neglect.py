"""The neglect theme: the reviews' learning, schools compared, the theme's gaps."""

from pages.theme_view import render
from pages import common

common.require_frame()

render("neglect")
