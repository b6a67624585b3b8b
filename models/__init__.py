"""Sector models: one mosaik adapter per simulator plus the sector's domain logic."""
