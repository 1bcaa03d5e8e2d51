"""Citation formats: export a servable's facts to CFF, Zenodo, CodeMeta, DataCite and BibTeX; import them back."""
