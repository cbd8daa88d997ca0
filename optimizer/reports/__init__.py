"""The reports stage: workbooks, CSV tables and figures written from result tables, atomically (never solves)."""
