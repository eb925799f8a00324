"""What tests of several folders share, imported as a package (``tests.helpers.workbooks``): never
through a conftest, so any folder of tests runs alone or in any order."""
