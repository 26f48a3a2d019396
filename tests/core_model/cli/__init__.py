"""Tests of the vidi command line."""
