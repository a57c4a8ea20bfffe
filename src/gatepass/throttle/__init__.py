"""Attempt throttling with sliding windows, shared by every process through storage."""
