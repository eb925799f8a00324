"""The neglect theme: the reviews' learning, schools compared, the theme's gaps."""

from ui.theme_page import render
from ui import shell

shell.require_frame()

render("neglect")
