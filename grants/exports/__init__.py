"""Exports for officers: CSV and XLSX tables, later the open-data formats."""
