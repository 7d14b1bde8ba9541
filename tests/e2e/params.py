"""The fixed parameters of the shared end-to-end landing zone."""
import datetime as dt

E2E_DATE = dt.date(2026, 10, 15)
E2E_SCALE = 0.001
E2E_SEED = 42
E2E_RUN = "e2e-run-1"
