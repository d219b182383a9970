"""Synthetic DICOM studies from simulated study records, and DICOM folders back to study traces."""
