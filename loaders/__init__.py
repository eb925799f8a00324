"""Reading and checking the termly safeguarding return. Imports nothing else of ours."""
