"""Pure training engines: no Django, no models. Names, signatures and units follow
`shared/SCIENCE.md`, which is a contract other code and checks rely on."""
