"""Pure nutrition engines (SCIENCE.md §4–5): no Django, no app imports."""
