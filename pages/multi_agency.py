"""The multi-agency working theme: the reviews' learning, schools compared, the theme's gaps."""

from ui import shell
from ui.theme_page import render

shell.require_frame()

render("multi_agency")
