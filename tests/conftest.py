"""pytest setup shared by every test: the collection is importable by its name."""

from collection_link import link_collection

link_collection()
